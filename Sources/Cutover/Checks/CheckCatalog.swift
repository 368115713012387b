/// Every check by the name suites use (SPEC §4's table): the one registry that the suite
/// parser (names and parameters) and the runner (evaluation) both read.
package enum CheckCatalog {
    package static let all: [any RunCheck] = [
        ZeroDropped(), NoDuplicateExecution(), FaithfulRelay(), SplitAccuracy(), ZeroWeightIsolation(), Stickiness(), MonotoneMovement(),
        RollbackTime(), ConvergenceTime(), HealthGate(), StreamIntegrity(), LatencyBudget(), SwitchTail(), StateSurvivesRestart(), CrashRecovery(),
        GeneratorValid(),
        ActionsHonoured(), EnvironmentHeader(), CancelPropagation(), RequestIntegrity(),
    ]

    /// Judged in every run, listed or not: the run's validity, the router's answers to
    /// the timeline, the truth of its environment header, and that it forwards requests
    /// unaltered.
    package static let alwaysJudged: [CheckID] = [.generatorValid, .actionsHonoured, .environmentHeader, .requestIntegrity]

    package static func check(named name: String) -> (any RunCheck)? { CheckID(rawValue: name).flatMap(check) }

    package static func check(_ id: CheckID) -> (any RunCheck)? { all.first { $0.id == id } }

    package static var names: [String] { all.map(\.name) }

    /// Evaluates each spec in order, then the always-judged checks the suite did not list.
    package static func evaluate(_ specs: [CheckSpec], on run: ReconciledRun) -> [CheckResult] {
        var results = specs.compactMap { spec in check(named: spec.name)?.evaluate(run, spec) }
        for id in alwaysJudged where !specs.contains(where: { $0.name == id.rawValue }) {
            results.append(check(id)!.evaluate(run, CheckSpec(name: id.rawValue)))
        }
        return results
    }
}
