/// Every check's name, in one place: the checks, the catalog, the suite builders' constants,
/// the judge and the router drivers' notes on known behaviour all spell a check through this,
/// so a misspelt name does not compile. The raw value is the name suites and reports use.
package enum CheckID: String, CaseIterable, Sendable {
    case zeroDropped = "ZeroDropped"
    case noDuplicateExecution = "NoDuplicateExecution"
    case faithfulRelay = "FaithfulRelay"
    case splitAccuracy = "SplitAccuracy"
    case zeroWeightIsolation = "ZeroWeightIsolation"
    case stickiness = "Stickiness"
    case monotoneMovement = "MonotoneMovement"
    case rollbackTime = "RollbackTime"
    case convergenceTime = "ConvergenceTime"
    case healthGate = "HealthGate"
    case streamIntegrity = "StreamIntegrity"
    case latencyBudget = "LatencyBudget"
    case switchTail = "SwitchTail"
    case stateSurvivesRestart = "StateSurvivesRestart"
    case crashRecovery = "CrashRecovery"
    case generatorValid = "GeneratorValid"
    case actionsHonoured = "ActionsHonoured"
    case environmentHeader = "EnvironmentHeader"
    case cancelPropagation = "CancelPropagation"
    case requestIntegrity = "RequestIntegrity"
}
