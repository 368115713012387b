import MockUpstream

/// Everything a run recorded, raw: the client ledger, each upstream's ledger, the
/// phases, the router actions and the faults. The reconcile stage joins it once into a
/// `ReconciledRun`, which is all the checks read; none of them touches the network.
package struct RunHistory: Sendable {
    package var client: ClientLedger
    /// What each upstream received (mock ledgers), health checks included.
    package var upstream: [ServedBy: [LedgerEntry]]
    package var phases: [PhaseWindow]
    /// Router actions with their call and return times, in order.
    package var actions: [ActionRecord]
    /// Faults present from the start or injected by the timeline, with their windows.
    package var faults: [FaultWindow]
    /// Timeline steps the harness itself could not carry out (a fault injection the mock
    /// refused): the run cannot judge what those steps were for.
    package var harnessFailures: [String]
    /// Entries each upstream ledger had to drop because it was full: the evidence is then
    /// incomplete, and reconciliation cannot vouch for what it did not see.
    package var upstreamLedgerDropped: [ServedBy: UInt64]
    /// The control path: a light probe sent in the same run, on the same clock, straight to
    /// a mock with no faults and no router in between. What slows it is the machine's doing.
    package var control: ClientLedger?
    /// The load plan, which says what each slot asked for (stream token counts).
    package var plan: LoadPlan?
    /// Wall-clock time (Unix ms) at which the ledger's clock read zero: maps the
    /// upstream ledgers' wall-clock times onto the run's time line.
    package var wallStartMs: Double
    /// What the router may change of an exchange (its profile's `relay:` and `model_map:`).
    package var relay: RelayTerms
    /// Whose health gate the canaries met: the router's, or none.
    package var gate: RouterGate
    /// Whose figure an action's reported weight is: the router's, or the driver's own.
    package var weightSource: WeightSource

    package init(
        client: ClientLedger, upstream: [ServedBy: [LedgerEntry]], phases: [PhaseWindow], actions: [ActionRecord] = [], faults: [FaultWindow] = [],
        harnessFailures: [String] = [], upstreamLedgerDropped: [ServedBy: UInt64] = [:], control: ClientLedger? = nil, plan: LoadPlan? = nil,
        wallStartMs: Double = 0, relay: RelayTerms = RelayTerms(), gate: RouterGate = .router,
        weightSource: WeightSource = .router
    ) {
        self.relay = relay
        self.gate = gate
        self.weightSource = weightSource
        self.control = control
        self.client = client
        self.upstream = upstream
        self.phases = phases
        self.actions = actions
        self.faults = faults
        self.harnessFailures = harnessFailures
        self.upstreamLedgerDropped = upstreamLedgerDropped
        self.plan = plan
        self.wallStartMs = wallStartMs
    }

    /// The run-clock time (µs) of an upstream ledger entry's arrival.
    func runMicros(ofArrival entry: LedgerEntry) -> Double { (entry.arrivalMs - wallStartMs) * 1_000 }

    /// The run-clock time (µs) of an upstream's wall-clock milliseconds (an entry's end).
    func runMicros(ofWallMs ms: Double) -> Double { (ms - wallStartMs) * 1_000 }

    /// The sequence number in one of this run's request ids (`<runID>-<seq>`), read from
    /// the bytes without allocating; nil for anything else (health probes, strays).
    func requestSeq(_ id: String) -> Int? {
        let bytes = id.utf8
        let prefix = client.runID.utf8
        guard bytes.count > prefix.count + 1, bytes.starts(with: prefix) else { return nil }
        var index = bytes.index(bytes.startIndex, offsetBy: prefix.count)
        guard bytes[index] == UInt8(ascii: "-") else { return nil }
        index = bytes.index(after: index)
        var value = 0
        while index != bytes.endIndex {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), value < Int.max / 10 - 9 else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            index = bytes.index(after: index)
        }
        return value
    }
}
