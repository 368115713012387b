/// On a weight change, sessions move only in the weight's direction: when green's weight
/// rises no session goes green→blue, when it falls none goes blue→green.
package struct MonotoneMovement: RunCheck {
    package let id = CheckID.monotoneMovement
    package let parameters: Set<String> = []
    package init() {}

    package struct Evidence: CheckEvidence {
        package var weightChanges: Int
        /// Sessions seen on both sides of a change: the ones that could have moved.
        package var comparedSessions: Int
        package var movedSessions: Int
        package var againstDirection: Int
        package var examples: [String]
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        var changes = 0
        var compared = 0
        var moved = 0
        var wrong: [String] = []
        for (before, after) in zip(run.phases, run.phases.dropFirst()) where before.greenWeight != after.greenWeight {
            changes += 1
            let old = SessionMap(run.routedRecords(in: [before]))
            let new = SessionMap(run.routedRecords(in: [after]))
            let forbidden: ServedBy = after.greenWeight > before.greenWeight ? .blue : .green
            for session in old.served.keys {
                guard let from = old.environment(session), let to = new.environment(session) else { continue }
                compared += 1
                guard from != to else { continue }
                moved += 1
                if to == forbidden { wrong.append("\(before.name)→\(after.name): s\(session) \(from.name)→\(to.name)") }
            }
        }
        let evidence = Evidence(weightChanges: changes, comparedSessions: compared, movedSessions: moved, againstDirection: wrong.count, examples: wrong.sample)
        guard changes > 0 else { return .inconclusive(name, "no weight change between two phases in the run", evidence) }
        guard compared > 0 else { return .inconclusive(name, "no session was seen on both sides of a weight change", evidence) }
        return CheckResult(
            name: name, status: wrong.isEmpty ? .pass : .fail,
            summary: "\(wrong.count) of \(moved) moved sessions went against the weight change (\(changes) changes); bound 0", evidence: evidence)
    }
}

extension MonotoneMovement.Evidence {
    package var offendingRequests: [String] { examples }
}
