import ConfigInput

/// Every router action did what the suite expected (SPEC §4 `expect:`): by default it was
/// accepted and the router reports the weight that was asked for; with `expect: refused`
/// it was refused and the weight stayed. And it returned in time: within `max` (default
/// 5 s, what an operator waits for a weight change before calling it stuck), a restart
/// within 30 s (a graceful restart drains first). A router whose rollback errors, whose
/// canary is always refused, or whose call hangs fails here instead of leaving the switch
/// checks nothing to judge. An `expect: refused` of a router without a health gate of its
/// own is HealthGate's question (not applicable to it), not asked again here. Weights that
/// only the driver reports (`WeightSource.driver`) are its own record, not compared.
package struct ActionsHonoured: RunCheck {
    package let id = CheckID.actionsHonoured
    package let parameters: Set<String> = ["max"]
    package init() {}

    /// How long a restart may take to return.
    static let restartBound: Duration = .seconds(30)

    package struct Evidence: CheckEvidence {
        package struct Action: Encodable, Sendable {
            package var action: String
            package var atMs: Double
            package var expected: String
            package var accepted: Bool
            package var askedWeight: Int?
            package var reportedWeight: Int?
            /// How long the call took to return.
            package var tookMs: Double
            /// The router's answer, as the driver saw it.
            package var response: String
            package var problem: String?
        }
        package var actions: [Action]
        /// `router`, or `driver` when the reported weights are the driver's own record.
        package var weightsReportedBy: String
        package var boundMs: Double
        package var problems: Int
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let bound = spec.max ?? .seconds(5)
        var rows: [Evidence.Action] = []
        var weight = 0
        for action in run.actions {
            var problem: String?
            let tookUs = UInt64(action.returnedUs &- action.calledUs)
            let limit = action.action.replacesProcess ? Self.restartBound : bound
            switch (action.expect, action.accepted) {
            case (.accepted, false):
                problem = "refused, but the suite expected it to be accepted"
            case (.accepted, true):
                if let asked = action.action.intendedGreenWeight, let reported = run.reportedWeights(action)?.after, reported != asked {
                    problem = "accepted, but the router reports green at \(reported) % instead of the \(asked) % asked for"
                }
            case (.refused, true):
                // A refusal the suite expects of a gate the router does not have is HealthGate's
                // question, not applicable to it: not asked twice here.
                if case .none = run.gate {} else { problem = "accepted, but the suite expected it to be refused" }
            case (.refused, false):
                if let reported = run.reportedWeights(action)?.after, reported != weight {
                    problem = "refused, but green's weight moved from \(weight) % to \(reported) %"
                }
            }
            if problem == nil, tookUs > limit.microseconds {
                problem = "took \(Double(tookUs) / 1e6) s to return (bound \(DurationText.format(limit)))"
            }
            if let set = action.greenWeight { weight = set }
            rows.append(
                Evidence.Action(
                    action: action.action.label, atMs: Double(action.calledUs) / 1000, expected: action.expect.rawValue, accepted: action.accepted,
                    askedWeight: action.action.intendedGreenWeight, reportedWeight: action.reportedWeightAfter, tookMs: Double(tookUs) / 1000,
                    response: String(action.detail.prefix(400)),
                    problem: problem))
        }
        let problems = rows.filter { $0.problem != nil }
        let evidence = Evidence(actions: rows, weightsReportedBy: run.weightSource.name, boundMs: Double(bound.microseconds) / 1000, problems: problems.count)
        guard !rows.isEmpty else { return CheckResult(name: name, status: .skipped, summary: "the timeline asks no router action", evidence: evidence) }
        return CheckResult(
            name: name, status: problems.isEmpty ? .pass : .fail,
            summary: problems.isEmpty
                ? "all \(rows.count) router actions did as the suite expected" + run.weightSource.notCompared
                : problems.prefix(3).map { "\($0.action) at \($0.atMs / 1000)s: \($0.problem!)" }.joined(separator: "; ") + run.weightSource.notCompared,
            evidence: evidence)
    }
}
