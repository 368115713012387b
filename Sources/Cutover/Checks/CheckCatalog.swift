/// Every check by the name suites use (SPEC §4's table): the one registry that the suite
/// parser (names and parameters) and the runner (evaluation) both read.
package enum CheckCatalog {
    package static let all: [any Check] = [
        ZeroDropped(), NoDuplicateExecution(), FaithfulRelay(), SplitAccuracy(), ZeroWeightIsolation(), Stickiness(), MonotoneMovement(),
        RollbackTime(), ConvergenceTime(), HealthGate(), StreamIntegrity(), LatencyBudget(), StateSurvivesRestart(), GeneratorValid(),
        ActionsHonoured(), EnvironmentHeader(), CancelPropagation(), RequestIntegrity(),
    ]

    /// Judged in every run, listed or not: the run's validity, the router's answers to
    /// the timeline, the truth of its environment header, and that it forwards requests
    /// unaltered.
    package static let alwaysJudged = ["GeneratorValid", "ActionsHonoured", "EnvironmentHeader", "RequestIntegrity"]

    package static func check(named name: String) -> (any Check)? { all.first { $0.name == name } }

    package static var names: [String] { all.map(\.name) }

    /// Evaluates each spec in order, then the always-judged checks the suite did not list.
    package static func evaluate(_ specs: [CheckSpec], on run: ReconciledRun) -> [CheckResult] {
        var results = specs.compactMap { spec in check(named: spec.name)?.evaluate(run, spec) }
        for name in alwaysJudged where !specs.contains(where: { $0.name == name }) {
            results.append(check(named: name)!.evaluate(run, CheckSpec(name: name)))
        }
        return results
    }
}
