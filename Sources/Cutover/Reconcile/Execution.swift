import MockUpstream

/// One upstream execution: which environment's ledger holds it, the entry as that
/// upstream recorded it, and whose it is.
package struct Execution: Sendable {
    package var env: ServedBy
    package var entry: LedgerEntry
    package var attribution: Attribution = .unattributed

    /// Whose execution an upstream ledger entry is.
    package enum Attribution: Sendable, Equatable {
        /// One of the run's requests (its index in the client ledger), by the identity its
        /// body carries or, for a body without one (a `GET`), its `X-Request-ID`.
        case request(Int)
        /// The router's own health probe, told apart by its documented shape: it carries no
        /// identity of the run, and is a `GET` or a non-streamed chat completion of at most
        /// 16 tokens (`ReconciledRun.isProbe`).
        case probe
        /// It names a request past the schedule (none from a correct harness).
        case stray(Int)
        /// It carries no identity the harness can attribute, and is no probe: a copy whose
        /// identity was replaced, a request the router made up.
        case unattributed
    }

    /// Where an execution sits: the environment and the index in its ledger, packed
    /// into 32 bits so a million of them cost 4 MB.
    struct Reference: Equatable {
        let bits: UInt32
        static let none = Reference(bits: .max)

        init(bits: UInt32) { self.bits = bits }
        init(env: ServedBy, index: Int) { bits = UInt32(index) << 1 | (env == .green ? 1 : 0) }

        var env: ServedBy { bits & 1 == 1 ? .green : .blue }
        var index: Int { Int(bits >> 1) }
    }
}
