import MockUpstream

/// One upstream execution of one of the run's requests: which environment's ledger
/// holds it, and the entry as that upstream recorded it.
package struct Execution: Sendable {
    package var env: ServedBy
    package var entry: LedgerEntry

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
