import MockUpstream

/// Everything a run recorded, which is all the checks may look at: the client ledger,
/// each upstream's ledger, and the phases with the green weight in force. Checks are
/// pure functions of this value; none of them touches the network.
public struct RunHistory: Sendable {
    public var client: ClientLedger
    /// What each upstream received (mock ledgers), health checks included.
    public var upstream: [ServedBy: [LedgerEntry]]
    public var phases: [PhaseWindow]
    /// Router actions with their call and return times, in order.
    public var actions: [ActionRecord]
    /// Faults the timeline injected, with when they were active.
    public var faults: [FaultWindow]
    /// The load plan, which says what each slot asked for (stream token counts).
    public var plan: LoadPlan?
    /// Wall-clock time (Unix ms) at which the ledger's clock read zero: maps the
    /// upstream ledgers' wall-clock times onto the run's time line.
    public var wallStartMs: Double

    public init(
        client: ClientLedger, upstream: [ServedBy: [LedgerEntry]], phases: [PhaseWindow], actions: [ActionRecord] = [], faults: [FaultWindow] = [],
        plan: LoadPlan? = nil, wallStartMs: Double = 0
    ) {
        self.client = client
        self.upstream = upstream
        self.phases = phases
        self.actions = actions
        self.faults = faults
        self.plan = plan
        self.wallStartMs = wallStartMs
    }

    /// A fault the timeline put on an upstream, on the ledger's clock.
    public struct FaultWindow: Sendable, Equatable {
        public var target: ServedBy
        public var id: String
        public var kind: String
        public var startUs: UInt32
        /// When it was healed; `.max` when it lasted to the end.
        public var endUs: UInt32
        /// True for faults that make the upstream fail every health probe (an outage, or
        /// 5xx on every request): a health-gated router must refuse a canary meanwhile.
        public var makesUnhealthy: Bool
        /// True for faults that only delay (latency, stream pace) and break nothing.
        public var onlyDelays: Bool

        public init(target: ServedBy, id: String, kind: String, startUs: UInt32, endUs: UInt32, makesUnhealthy: Bool, onlyDelays: Bool = false) {
            self.target = target
            self.id = id
            self.kind = kind
            self.startUs = startUs
            self.endUs = endUs
            self.makesUnhealthy = makesUnhealthy
            self.onlyDelays = onlyDelays
        }

        func covers(_ us: UInt32) -> Bool { us >= startUs && us < endUs }
    }

    /// The run-clock time (µs) of an upstream ledger entry's arrival.
    func runMicros(ofArrival entry: LedgerEntry) -> Double { (entry.arrivalMs - wallStartMs) * 1_000 }

    /// Upstream executions of this run's requests (health probes and strays left out)
    /// that also satisfy `predicate`, which is tested first because it is cheaper.
    func executions(on env: ServedBy, where predicate: (LedgerEntry) -> Bool = { _ in true }) -> [LedgerEntry] {
        (upstream[env] ?? []).filter { predicate($0) && requestSeq($0.requestID) != nil }
    }

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

    /// One router action as the timeline runner saw it, on the ledger's clock.
    public struct ActionRecord: Sendable, Equatable {
        public var name: String
        public var calledUs: UInt32
        public var returnedUs: UInt32
        /// Whether the router accepted it (a health-gated canary may refuse).
        public var succeeded: Bool
        /// Green's weight once it returned (nil for actions that do not set weights).
        public var greenWeight: Int?
        /// Green's weight as the router reported it just before the call (for restarts).
        public var greenWeightBefore: Int?
        /// Green's weight as the router reported it after the call, whatever the action.
        public var reportedWeightAfter: Int?
        /// The router's answer, for the report (a refusal's reason).
        public var detail: String

        public init(
            name: String, calledUs: UInt32, returnedUs: UInt32, succeeded: Bool, greenWeight: Int?, greenWeightBefore: Int? = nil,
            reportedWeightAfter: Int? = nil, detail: String = ""
        ) {
            self.name = name
            self.calledUs = calledUs
            self.returnedUs = returnedUs
            self.succeeded = succeeded
            self.greenWeight = greenWeight
            self.greenWeightBefore = greenWeightBefore
            self.reportedWeightAfter = reportedWeightAfter
            self.detail = detail
        }
    }

    /// A stretch of the run under one name and one green weight, on the ledger's clock.
    public struct PhaseWindow: Sendable, Equatable {
        public var name: String
        public var startUs: UInt32
        public var endUs: UInt32
        /// Green's weight in percent while this phase is steady.
        public var greenWeight: Int

        public init(name: String, startUs: UInt32, endUs: UInt32, greenWeight: Int) {
            self.name = name
            self.startUs = startUs
            self.endUs = endUs
            self.greenWeight = greenWeight
        }

        /// Scheduled inside this phase (what drop counts use).
        func contains(_ record: LedgerRecord) -> Bool { record.intendedUs >= startUs && record.intendedUs < endUs }

        /// Certainly routed under this phase's weight: sent inside it, and answered (the
        /// router decided somewhere in between) before it ended. A request in flight
        /// across a switch may have been routed under either weight, so it is left out.
        func routed(_ record: LedgerRecord) -> Bool {
            record.outcome != .notSent && record.sentUs >= startUs && record.sentUs < endUs && record.routedByUs <= endUs
        }
    }

    /// The client record of one of this run's request ids (`<runID>-<seq>`).
    func record(forRequestID id: String) -> LedgerRecord? {
        guard let seq = requestSeq(id) else { return nil }
        let records = client.records
        if seq < records.count, records[seq].seq == UInt32(seq) { return records[seq] }
        return records.first { $0.seq == UInt32(seq) }
    }

    /// The phases a check asked for (all when `names` is empty).
    func phases(named names: [String]) -> [PhaseWindow] {
        names.isEmpty ? phases : phases.filter { names.contains($0.name) }
    }

    /// Client records certainly routed under the weight of one of `windows`.
    func routedRecords(in windows: [PhaseWindow]) -> [LedgerRecord] {
        client.records.filter { record in windows.contains { $0.routed(record) } }
    }

    /// Client records scheduled inside any of `windows`.
    func records(in windows: [PhaseWindow]) -> [LedgerRecord] {
        client.records.filter { record in windows.contains { $0.contains(record) } }
    }
}
