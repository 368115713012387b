import Synchronization

/// Live counters the engine threads bump as requests end, for progress displays.
package final class LoadProgress: Sendable {
    private let sentCount = Atomic<Int>(0)
    private let okCount = Atomic<Int>(0)
    private let droppedCount = Atomic<Int>(0)
    private let greenCount = Atomic<Int>(0)

    package init() {}

    func record(_ record: LedgerRecord) {
        sentCount.add(1, ordering: .relaxed)
        if record.outcome == .ok { okCount.add(1, ordering: .relaxed) }
        if record.outcome.isDropped { droppedCount.add(1, ordering: .relaxed) }
        if record.servedBy == .green { greenCount.add(1, ordering: .relaxed) }
    }

    package var sent: Int { sentCount.load(ordering: .relaxed) }
    package var ok: Int { okCount.load(ordering: .relaxed) }
    package var dropped: Int { droppedCount.load(ordering: .relaxed) }
    package var green: Int { greenCount.load(ordering: .relaxed) }
}
