import Foundation

/// A run's record before it is judged: what the runner hands the judge at the end of a run,
/// and what `cutover merge` rebuilds from the parts of a sharded one.
package struct UnjudgedRun: Sendable {
    package var suite: Suite
    package var seed: UInt64
    package var build: RouterBuild
    package var history: RunHistory
    package var log: [String]
    package var startedAt: Date
    package var elapsedSeconds: Double
    /// What the harness already knew was wrong (a shard that died, a mock that fell behind).
    package var problems: [String]

    package init(
        suite: Suite, seed: UInt64, build: RouterBuild, history: RunHistory, log: [String], startedAt: Date, elapsedSeconds: Double, problems: [String]
    ) {
        self.suite = suite
        self.seed = seed
        self.build = build
        self.history = history
        self.log = log
        self.startedAt = startedAt
        self.elapsedSeconds = elapsedSeconds
        self.problems = problems
    }
}

/// The one judge of a run, for `cutover run` and `cutover merge` alike: reconciles the
/// history, evaluates the suite's checks, and says whether the run could vouch for anything.
package enum RunJudge {
    /// `explain` adds a router's published behaviour to a failure it explains.
    package static func judge(_ run: UnjudgedRun, explain: (CheckResult) -> String? = { _ in nil }) -> SuiteRun {
        let reconciled = ReconciledRun(run.history)
        let checks = CheckCatalog.evaluate(run.suite.checks, on: reconciled).map { result in
            guard result.status == .fail, let behaviour = explain(result) else { return result }
            var explained = result
            explained.summary += behaviour
            return explained
        }
        // The run cannot vouch for anything when the generator or the harness failed it.
        var invalid: [String] = []
        if let validity = checks.first(where: { $0.id == .generatorValid }), validity.status == .fail,
            (validity.evidence as? GeneratorValid.Evidence)?.generatorAtFault ?? true
        {
            invalid.append("the load generator could not deliver the plan: \(validity.summary)")
        }
        invalid += run.history.harnessFailures.map { "the harness could not carry out a step: \($0)" }
        invalid += run.problems
        invalid += reconciled.evidenceGaps
        return SuiteRun(
            suite: run.suite, seed: run.seed, build: run.build, reconciled: reconciled,
            summary: LoadSummary(ledger: reconciled.ledger, elapsedSeconds: run.elapsedSeconds), checks: checks, log: run.log,
            startedAt: run.startedAt, elapsedSeconds: run.elapsedSeconds, harnessProblems: invalid)
    }
}
