/// A router restart (or a crash and the start after it) keeps the deployment: green's
/// weight after equals the weight before, and sessions served in the 5 s before the restart
/// are served by the same environment (per the upstream ledgers) in the 5 s after it (both
/// spans cut at any weight change). Weights only the driver reports are its own record, not
/// compared: the sessions alone judge such a router.
package struct StateSurvivesRestart: RunCheck {
    package let id = CheckID.stateSurvivesRestart
    package let parameters: Set<String> = []
    package init() {}

    static let spanUs: UInt32 = 5_000_000

    package struct Evidence: CheckEvidence {
        package var restarts: Int
        package var sessionsCompared: Int
        package var sessionsMoved: Int
        package var problems: [String]
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let restarts = run.actions.filter { $0.action.replacesProcess }
        var problems: [String] = []
        var compared = 0
        var moved = 0
        for restart in restarts {
            let label = "\(restart.action.name) at \(Double(restart.calledUs) / 1e6)s"
            if !restart.accepted { problems.append("\(label) failed: \(restart.detail)") }
            if let reported = run.reportedWeights(restart) {
                switch reported {
                case (let before?, let after?) where before != after:
                    problems.append("\(label): green's weight was \(before) %, came back as \(after) %")
                case (nil, _), (_, nil):
                    problems.append("\(label): the router did not report its weights around the restart")
                default:
                    break
                }
            }
            let next = run.weightChanges.nextCall(after: restart.returnedUs)
            // Compare only spans with the same weights: after the last change before the restart, before the next one.
            let previous = run.weightChanges.last(before: restart.calledUs)?.returnedUs ?? 0
            let from = max(previous, restart.calledUs &- min(restart.calledUs, Self.spanUs))
            let before = SessionMap(run.records.filter { $0.sentUs > from && $0.sentUs < restart.calledUs && $0.routedByUs < restart.calledUs })
            let after = SessionMap(run.records.filter { $0.sentUs > restart.returnedUs && $0.sentUs < min(next, restart.returnedUs &+ Self.spanUs) })
            var movedHere = 0
            for session in before.served.keys {
                guard let was = before.environment(session), let now = after.environment(session) else { continue }
                compared += 1
                if was != now { movedHere += 1 }
            }
            moved += movedHere
            if movedHere > 0 { problems.append("\(label): \(movedHere) sessions changed environment across it") }
        }
        let evidence = Evidence(restarts: restarts.count, sessionsCompared: compared, sessionsMoved: moved, problems: problems.sample)
        guard !restarts.isEmpty else { return .inconclusive(name, "no restart in the run", evidence) }
        if problems.isEmpty, compared == 0 { return .inconclusive(name, "no session was served both before and after a restart", evidence) }
        return CheckResult(
            name: name, status: problems.isEmpty ? .pass : .fail,
            summary: "\(restarts.count) restarts; \(problems.count) problems (weights lost, sessions moved); \(moved) of \(compared) sessions moved"
                + run.weightSource.notCompared,
            evidence: evidence)
    }
}

extension StateSurvivesRestart.Evidence {
    package var offendingRequests: [String] { problems }
}
