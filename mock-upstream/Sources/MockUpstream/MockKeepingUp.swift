/// Whether a mock kept up with the run it served: how late its event loops ran a timer,
/// how late its paced stream frames left, and how many connections it failed to accept.
/// A mock that fell behind answered late or not at all for its own reasons, so what the
/// router seemed to do meanwhile says nothing: beyond `boundMs`, the run is invalid,
/// naming the mock and the figure (as the generator's own lag does).
package struct MockKeepingUp: Sendable, Equatable {
    package var name: String
    /// p99 and maximum of the event loops' lateness, ms (p99 is a bucket bound: "at most").
    package var loopLagP99Ms: Double?
    package var loopLagMaxMs: Double
    /// p99 of paced stream frames' lateness, ms.
    package var pacingLateP99Ms: Double?
    package var acceptFailures: Int
    package var lastAcceptFailure: String?

    /// How late a mock may run at p99 before it cannot vouch for a run: the generator's own bound.
    package static let boundMs = 50.0

    /// Why the mock could not vouch for the run, or nil when it kept up.
    package var problem: String? {
        var reasons: [String] = []
        if let lag = loopLagP99Ms, lag > Self.boundMs { reasons.append("its event loops ran up to \(lag) ms late (p99; max \(loopLagMaxMs) ms)") }
        if let late = pacingLateP99Ms, late > Self.boundMs { reasons.append("its paced stream frames left up to \(late) ms late (p99)") }
        if acceptFailures > 0 {
            reasons.append("it failed to accept \(acceptFailures) connections" + (lastAcceptFailure.map { " (\($0))" } ?? ""))
        }
        guard !reasons.isEmpty else { return nil }
        return "the \(name) mock fell behind: " + reasons.joined(separator: "; ") + "; bound \(Self.boundMs) ms"
    }
}
