import CurlHTTP
import Foundation

/// Drives a running router through a deployment, one phase at a time, over its admin
/// API, and keeps a timestamped log of what it asked and what the router answered.
package struct DeploymentClient: Sendable {
    /// What `cutover deploy --phase` names: a router action, or a look at the status.
    package enum Phase: Sendable, Equatable {
        case action(RouterAction)
        /// Show where the deployment is.
        case status

        /// The phases `--phase` takes (restart is the supervisor's, not the admin API's).
        package static let names = RouterAction.names.filter { $0 != RouterAction.restart.name && $0 != RouterAction.crash.name } + ["status"]

        package init?(name: String, canaryPercentage: Int?) {
            if name == "status" {
                self = .status
            } else if let action = RouterAction(name: name, percent: name == RouterAction.Kind.canary.rawValue ? canaryPercentage ?? 10 : nil),
                !action.replacesProcess
            {
                self = .action(action)
            } else {
                return nil
            }
        }
    }

    /// What one phase did.
    package struct Result: Sendable {
        package var succeeded: Bool
        /// What was asked and answered, oldest first.
        package var entries: [Entry]
        /// The router's status after the phase, when it could be read.
        package var status: RouterStatus?

        /// The entries as timestamped lines.
        package var log: [String] { entries.map { "\(DeploymentClient.timestamp($0.at))  \($0.text)" } }
    }

    /// One line of the deployment log.
    package struct Entry: Sendable {
        package var at: Date
        package var text: String
    }

    package let adminURL: String
    package let token: String?
    private let client = CurlClient()

    package init(adminURL: String, token: String? = nil) {
        self.adminURL = adminURL.hasSuffix("/") ? String(adminURL.dropLast()) : adminURL
        self.token = token
    }

    /// Carries out one router action (restart excepted: no admin API restarts a router).
    package func perform(_ action: RouterAction) async -> Result { await run(.action(action)) }

    /// Reads the router's status.
    package func status() async -> Result { await run(.status) }

    /// Runs one phase, then reads the status.
    package func run(_ phase: Phase) async -> Result {
        var entries: [Entry] = []
        func note(_ text: String) { entries.append(Entry(at: Date(), text: text)) }

        var succeeded = true
        switch phase {
        case .status:
            break
        case .action(.validate):
            note("validate: health-checking blue and green")
            let response = await send("POST", "/admin/validate", body: nil)
            succeeded = describe(response, action: .validate, note: note)
        case .action(.canary(let percent)):
            note("canary: moving \(percent) % of sessions to green (health-gated)")
            let response = await send("POST", "/admin/canary", body: #"{"percent":\#(percent)}"#)
            succeeded = describe(response, action: .canary(percent: percent), note: note)
        case .action(.promote):
            note("promote: moving all traffic to green")
            succeeded = describe(await send("POST", "/admin/promote", body: nil), action: .promote, note: note)
        case .action(.rollback):
            note("rollback: moving all traffic back to blue")
            succeeded = describe(await send("POST", "/admin/rollback", body: nil), action: .rollback, note: note)
        case .action(.restart), .action(.crash):
            note("the admin API cannot restart (or crash) a router; its supervisor does")
            succeeded = false
        }

        let statusResponse = await send("GET", "/admin/status", body: nil)
        var status: RouterStatus?
        if let error = statusResponse.error {
            note("status: router not reachable at \(adminURL) (\(error))")
            succeeded = false
        } else if statusResponse.status != 200 {
            note("status: the router answered \(statusResponse.status): \(Self.message(statusResponse))")
            succeeded = false
        } else if let decoded = try? JSONDecoder().decode(RouterStatus.self, from: Data(statusResponse.body)) {
            status = decoded
            note("status: active \(decoded.active), green weight \(decoded.weights.green) %")
        } else {
            note("status: the router's answer is not a status object: \(statusResponse.text.prefix(200))")
            succeeded = false
        }
        return Result(succeeded: succeeded, entries: entries, status: status)
    }

    private func send(_ method: String, _ path: String, body: String?) async -> CurlResponse {
        var headers: [(name: String, value: String)] = []
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        if body != nil { headers.append(("Content-Type", "application/json")) }
        return await client.send(
            CurlRequest(
                method: method, url: adminURL + path, headers: headers, body: body.map { Array($0.utf8) } ?? (method == "POST" ? [] : nil), timeoutMs: 15_000))
    }

    /// Logs the router's answer to a phase; true when it accepted.
    private func describe(_ response: CurlResponse, action: RouterAction, note: (String) -> Void) -> Bool {
        let phase = action.name
        if let error = response.error {
            note("\(phase): router not reachable at \(adminURL) (\(error))")
            return false
        }
        guard (200..<300).contains(response.status) else {
            note("\(phase): refused (\(response.status)): \(Self.message(response))")
            return false
        }
        if action == .validate, let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any],
            let health = object["health"] as? [String: [String: Any]]
        {
            for name in ["blue", "green"] {
                let h = health[name] ?? [:]
                note("validate: \(name) \(h["status"] as? String ?? "unknown"): \(h["detail"] as? String ?? "")")
            }
        }
        note("\(phase): done")
        return true
    }

    private static func message(_ response: CurlResponse) -> String {
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        return ((object?["error"] as? [String: Any])?["message"] as? String) ?? String(response.text.prefix(300))
    }

    private static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
