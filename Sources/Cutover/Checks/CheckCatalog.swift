/// Every check by the name suites use (SPEC §4's table).
public enum CheckCatalog {
    public static let all: [any Check] = [
        ZeroDropped(), NoDuplicateExecution(), FaithfulRelay(), SplitAccuracy(), ZeroWeightIsolation(), Stickiness(), MonotoneMovement(),
        RollbackTime(), ConvergenceTime(), HealthGate(), StreamIntegrity(), LatencyBudget(), StateSurvivesRestart(), GeneratorValid(),
    ]

    public static func check(named name: String) -> (any Check)? { all.first { $0.name == name } }

    /// Evaluates each spec in order.
    public static func evaluate(_ specs: [CheckSpec], on history: RunHistory) -> [CheckResult] {
        specs.compactMap { spec in check(named: spec.name)?.evaluate(history, spec) }
    }
}
