import Synchronization

/// Fault stamps seen in a run (the mock's `X-Mock-Fault` values), interned to small
/// integers for the compact ledger: by the generator as answers arrive, and again by the
/// merge, which joins the tables of several generators into one.
package final class FaultStampTable: Sendable {
    private let table = Mutex<(names: [String], index: [String: UInt16])>((["none"], ["none": 0]))

    package init() {}

    package func index(of stamp: String) -> UInt16 {
        table.withLock { table in
            if let index = table.index[stamp] { return index }
            guard table.names.count < Int(UInt16.max) else { return UInt16.max }
            let index = UInt16(table.names.count)
            table.names.append(stamp)
            table.index[stamp] = index
            return index
        }
    }

    package var names: [String] { table.withLock { $0.names } }
}
