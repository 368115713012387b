import HTTPServerCore

/// On a weight change, sessions move only in the weight's direction: when green's weight
/// rises no session goes green→blue, when it falls none goes blue→green.
public struct MonotoneMovement: Check {
    public let name = "MonotoneMovement"
    public init() {}

    public func evaluate(_ history: RunHistory, _ spec: CheckSpec) -> CheckResult {
        var changes = 0
        var moved = 0
        var wrong: [String] = []
        for (before, after) in zip(history.phases, history.phases.dropFirst()) where before.greenWeight != after.greenWeight {
            changes += 1
            let old = SessionMap(history.routedRecords(in: [before]))
            let new = SessionMap(history.routedRecords(in: [after]))
            let forbidden: ServedBy = after.greenWeight > before.greenWeight ? .blue : .green
            for session in old.served.keys {
                guard let from = old.environment(session), let to = new.environment(session), from != to else { continue }
                moved += 1
                if to == forbidden { wrong.append("\(before.name)→\(after.name): s\(session) \(from.name)→\(to.name)") }
            }
        }
        guard changes > 0 else {
            return CheckResult(name: name, status: .skipped, summary: "no weight change in the run", evidence: .object([("weight_changes", .int(0))]))
        }
        return CheckResult(
            name: name, status: wrong.isEmpty ? .pass : .fail,
            summary: "\(wrong.count) of \(moved) moved sessions went against the weight change (\(changes) changes); bound 0",
            evidence: .object([
                ("weight_changes", .int(changes)), ("moved_sessions", .int(moved)), ("against_direction", .int(wrong.count)),
                ("examples", .array(wrong.prefix(CheckResult.sampleLimit).map { .string($0) })),
            ]))
    }
}
