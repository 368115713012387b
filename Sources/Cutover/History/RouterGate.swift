/// Whose health gate a run's canaries met. `HealthGate` certifies the router only when the
/// router itself decides: by refusing the action, or through its own health checks as the
/// profile's `gate:` reads them. A router without a gate makes the check not applicable,
/// with the reason, rather than a pass earned by the harness's own check.
package enum RouterGate: Sendable, Equatable, Codable {
    /// The router decides (its answer to the action, its health checks).
    case router
    /// The router has none; why, in the report's words.
    case none(reason: String)
}
