import HTTPServerCore

/// A session keeps its environment while the weights are unchanged: within each steady
/// phase, no session key is served by both environments.
public struct Stickiness: Check {
    public let name = "Stickiness"
    public init() {}

    public func evaluate(_ history: RunHistory, _ spec: CheckSpec) -> CheckResult {
        var sessions = 0
        var split: [(phase: String, session: UInt32)] = []
        for phase in history.phases(named: spec.phases) {
            let map = SessionMap(history.routedRecords(in: [phase]))
            sessions += map.served.count
            split += map.split.map { (phase.name, $0) }
        }
        return CheckResult(
            name: name, status: split.isEmpty ? .pass : .fail,
            summary: "\(split.count) of \(sessions) sessions served by both environments within a phase; bound 0",
            evidence: .object([
                ("sessions", .int(sessions)),
                ("split_sessions", .int(split.count)),
                ("examples", .array(split.prefix(CheckResult.sampleLimit).map { .string("\($0.phase): s\($0.session)") })),
            ]))
    }
}
