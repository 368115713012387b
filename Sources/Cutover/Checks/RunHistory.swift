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

    public init(client: ClientLedger, upstream: [ServedBy: [LedgerEntry]], phases: [PhaseWindow], actions: [ActionRecord] = []) {
        self.client = client
        self.upstream = upstream
        self.phases = phases
        self.actions = actions
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

        public init(name: String, calledUs: UInt32, returnedUs: UInt32, succeeded: Bool, greenWeight: Int?) {
            self.name = name
            self.calledUs = calledUs
            self.returnedUs = returnedUs
            self.succeeded = succeeded
            self.greenWeight = greenWeight
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

        func contains(_ record: LedgerRecord) -> Bool { record.intendedUs >= startUs && record.intendedUs < endUs }
    }

    /// The phases a check asked for (all when `names` is empty).
    func phases(named names: [String]) -> [PhaseWindow] {
        names.isEmpty ? phases : phases.filter { names.contains($0.name) }
    }

    /// Client records scheduled inside any of `windows`.
    func records(in windows: [PhaseWindow]) -> [LedgerRecord] {
        client.records.filter { record in windows.contains { $0.contains(record) } }
    }
}
