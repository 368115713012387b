import Foundation

/// A finished suite run: what ran, against which router build, what happened, and the
/// verdict of every check. Reports are rendered from this value alone.
public struct SuiteRun: Sendable {
    public enum Verdict: String, Sendable {
        /// Every check passed (or was skipped).
        case pass
        /// A check failed: the router is at fault.
        case fail
        /// The run could not be delivered (generator behind, environment did not start):
        /// it says nothing about the router.
        case invalid

        /// The CLI's exit code (SPEC §4).
        public var exitCode: Int32 {
            switch self {
            case .pass: 0
            case .fail: 1
            case .invalid: 3
            }
        }
    }

    public var suite: Suite
    public var seed: UInt64
    public var build: RouterBuild
    public var history: RunHistory
    public var summary: LoadSummary
    public var checks: [CheckResult]
    /// The timeline as carried out, one line per step.
    public var log: [String]
    public var startedAt: Date
    public var elapsedSeconds: Double
    /// Why the run was invalid, when it was.
    public var invalidReason: String?

    public var verdict: Verdict {
        if invalidReason != nil { return .invalid }
        return checks.contains { $0.status == .fail } ? .fail : .pass
    }
}
