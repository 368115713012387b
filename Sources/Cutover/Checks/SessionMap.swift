/// Which environments served each session key inside a set of records.
struct SessionMap {
    /// Per session: bit 0 blue served it, bit 1 green served it.
    private(set) var served: [UInt32: UInt8] = [:]

    init(_ records: [LedgerRecord]) {
        for record in records where record.servedBy != .unknown {
            served[record.session, default: 0] |= record.servedBy == .blue ? 1 : 2
        }
    }

    /// Sessions that both environments served.
    var split: [UInt32] { served.filter { $0.value == 3 }.keys.sorted() }

    /// The environment of a session served by only one.
    func environment(_ session: UInt32) -> ServedBy? {
        switch served[session] {
        case 1: .blue
        case 2: .green
        default: nil
        }
    }
}
