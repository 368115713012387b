/// A named stretch of the run under one green weight, on the ledger's clock.
///
/// Two spans: the phase's *stretch* `[openedUs, closedUs)` runs from the moment its step
/// began (an action's call, not its return) to the next phase's, so that consecutive
/// phases leave no gap and drop counts miss no switch moment; its *steady* window
/// `[startUs, endUs)` runs from the action's return to the next weight change, the span
/// in which routing checks may hold the router to `greenWeight`.
package struct PhaseWindow: Sendable, Equatable, Codable {
    package var name: String
    /// Steady window: routing under `greenWeight` starts here...
    package var startUs: UInt32
    /// ...and ends here (the next phase, or a weight change called inside this one).
    package var endUs: UInt32
    /// Green's weight in percent while this phase is steady.
    package var greenWeight: Int
    /// Stretch: when this phase's step began (its action's call).
    package var openedUs: UInt32
    /// Stretch: when the next phase's step began, or the end of the run.
    package var closedUs: UInt32

    package init(name: String, startUs: UInt32, endUs: UInt32, greenWeight: Int, openedUs: UInt32? = nil, closedUs: UInt32? = nil) {
        self.name = name
        self.startUs = startUs
        self.endUs = endUs
        self.greenWeight = greenWeight
        self.openedUs = openedUs ?? startUs
        self.closedUs = closedUs ?? endUs
    }

    /// Scheduled inside this phase's stretch (what drop counts use).
    package func contains(_ record: LedgerRecord) -> Bool { record.intendedUs >= openedUs && record.intendedUs < closedUs }

    /// Certainly routed under this phase's weight: sent inside its steady window, and
    /// answered (the router decided somewhere in between) before it ended. A request in
    /// flight across a switch may have been routed under either weight, so it is left out.
    package func routed(_ record: LedgerRecord) -> Bool {
        record.outcome != .notSent && record.sentUs >= startUs && record.sentUs < endUs && record.routedByUs <= endUs
    }
}
