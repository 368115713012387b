import HTTPServerCore

/// A router restart keeps the deployment: green's weight after equals the weight before,
/// and sessions served in the 5 s before the restart are served by the same environment
/// in the 5 s after it (both spans cut at any weight change).
public struct StateSurvivesRestart: Check {
    public let name = "StateSurvivesRestart"
    public init() {}

    static let spanUs: UInt32 = 5_000_000

    public func evaluate(_ history: RunHistory, _ spec: CheckSpec) -> CheckResult {
        let restarts = history.actions.filter { $0.name == "restart" }
        guard !restarts.isEmpty else {
            return CheckResult(name: name, status: .skipped, summary: "no restart in the run", evidence: .object([("restarts", .int(0))]))
        }
        var problems: [String] = []
        var compared = 0
        var moved = 0
        for restart in restarts {
            let label = "restart at \(Double(restart.calledUs) / 1e6)s"
            if !restart.succeeded { problems.append("\(label) failed: \(restart.detail)") }
            switch (restart.greenWeightBefore, restart.reportedWeightAfter) {
            case (let before?, let after?) where before != after:
                problems.append("\(label): green's weight was \(before) %, came back as \(after) %")
            case (nil, _), (_, nil):
                problems.append("\(label): the router did not report its weights around the restart")
            default:
                break
            }
            let next = history.actions.first { $0.calledUs > restart.returnedUs && $0.greenWeight != nil }?.calledUs ?? .max
            // Compare only spans with the same weights: after the last change before the restart, before the next one.
            let previous = history.actions.last { $0.returnedUs < restart.calledUs && $0.greenWeight != nil }?.returnedUs ?? 0
            let from = max(previous, restart.calledUs &- min(restart.calledUs, Self.spanUs))
            let before = SessionMap(history.client.records.filter { $0.sentUs > from && $0.sentUs < restart.calledUs })
            let after = SessionMap(history.client.records.filter { $0.sentUs > restart.returnedUs && $0.sentUs < min(next, restart.returnedUs &+ Self.spanUs) })
            var movedHere = 0
            for session in before.served.keys {
                guard let was = before.environment(session), let now = after.environment(session) else { continue }
                compared += 1
                if was != now { movedHere += 1 }
            }
            moved += movedHere
            if movedHere > 0 { problems.append("\(label): \(movedHere) sessions changed environment across it") }
        }
        return CheckResult(
            name: name, status: problems.isEmpty ? .pass : .fail,
            summary: "\(restarts.count) restarts; \(problems.count) problems (weights lost, sessions moved); \(moved) of \(compared) sessions moved",
            evidence: .object([
                ("restarts", .int(restarts.count)), ("sessions_compared", .int(compared)), ("sessions_moved", .int(moved)),
                ("problems", .array(problems.prefix(CheckResult.sampleLimit).map { .string($0) })),
            ]))
    }
}
