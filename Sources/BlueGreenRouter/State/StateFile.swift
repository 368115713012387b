import ConfigInput
import Foundation
import HTTPServerCore

/// Persists the deployment record (weights, active environment, times) so a restarted
/// router resumes where it was. Writes go to a temporary file and are renamed into
/// place, so a crash never leaves a half-written state.
package struct StateFile: Sendable {
    package let path: String

    package init(path: String) { self.path = path }

    /// The saved record, or nil when the file does not exist yet.
    package func load() throws(ConfigError) -> RouterState.DeploymentRecord? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let root: ConfigNode
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            root = try ConfigNode.parseJSON(Array(data), source: path)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(source: path, line: nil, field: "", message: "cannot read state file: \(error.localizedDescription)")
        }
        let fields = try root.object(allowed: ["green_weight", "active", "deployment_started", "last_switch"])
        guard let weight = fields["green_weight"] else { throw root.error("missing 'green_weight'") }
        var record = RouterState.DeploymentRecord(greenWeight: try weight.int(in: 0...100))
        if let active = fields["active"] { record.active = Environment(rawValue: try active.choice(["blue", "green"]))! }
        record.deploymentStarted = try Self.date(fields["deployment_started"])
        record.lastSwitch = try Self.date(fields["last_switch"])
        return record
    }

    private static func date(_ node: ConfigNode?) throws(ConfigError) -> Date? {
        guard let node, case .string(let text) = node.value else {
            if let node, case .null = node.value { return nil }
            if let node { throw node.error("expected an ISO 8601 time, got \(node.kindName)") }
            return nil
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text) { return date }
        throw node.error("expected an ISO 8601 time, got '\(text)'")
    }

    /// Writes the record atomically (temporary file, then rename).
    package func save(_ record: RouterState.DeploymentRecord) throws {
        let data = Data((Self.json(record).text + "\n").utf8)
        let temporary = path + ".tmp-\(getpid())"
        try data.write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else {
            let code = errno
            try? FileManager.default.removeItem(atPath: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "rename to \(path) failed: \(String(cString: strerror(code)))"])
        }
    }

    static func json(_ record: RouterState.DeploymentRecord) -> JSON {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return .object([
            ("green_weight", .int(record.greenWeight)),
            ("active", .string(record.active.rawValue)),
            ("deployment_started", record.deploymentStarted.map { .string(formatter.string(from: $0)) } ?? .null),
            ("last_switch", record.lastSwitch.map { .string(formatter.string(from: $0)) } ?? .null),
        ])
    }
}
