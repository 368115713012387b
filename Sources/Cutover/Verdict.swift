/// A run's verdict, and a set's.
public enum Verdict: String, Sendable {
    /// Every check passed (or was skipped: a feature the router does not offer).
    case pass
    /// A check failed: the router is at fault.
    case fail
    /// The run could not judge: the generator fell behind, the harness could not carry
    /// out a step, the evidence is incomplete, or a listed check was inconclusive. It
    /// says nothing about the router, so it is never a pass.
    case invalid

    /// The CLI's exit code (SPEC §4): 0, 1 or 3.
    public var exitCode: Int32 {
        switch self {
        case .pass: 0
        case .fail: 1
        case .invalid: 3
        }
    }
}
