import Synchronization

/// How late something ran against its due time: paced stream frames against their
/// schedule, an event loop against a timer (`LoopLag`). A fixed set of buckets behind one
/// short lock (a record is two additions).
package final class LatenessStats: Sendable {
    /// Upper bounds of the lateness buckets, in microseconds (the last is open).
    static let boundsUs: [UInt64] = [100, 250, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 1_000_000]
    private let state = Mutex<(buckets: [Int], maxUs: UInt64)>((Array(repeating: 0, count: LatenessStats.boundsUs.count + 1), 0))

    package init() {}

    /// One event that happened `lateUs` after it was due.
    func record(lateUs: UInt64) {
        let index = Self.boundsUs.firstIndex { lateUs < $0 } ?? Self.boundsUs.count
        state.withLock {
            $0.buckets[index] += 1
            $0.maxUs = max($0.maxUs, lateUs)
        }
    }

    /// Events recorded so far.
    package var frames: Int { state.withLock { $0.buckets.reduce(0, +) } }

    /// The bucket bound (ms) under which `fraction` of the frames left; nil before any frame.
    package func lateMs(atFraction fraction: Double) -> Double? {
        let (counts, maxUs) = state.withLock { ($0.buckets, $0.maxUs) }
        let total = counts.reduce(0, +)
        guard total > 0 else { return nil }
        var seen = 0
        for (index, count) in counts.enumerated() {
            seen += count
            if Double(seen) >= fraction * Double(total) {
                return index < Self.boundsUs.count ? Double(min(Self.boundsUs[index], maxUs)) / 1000 : Double(maxUs) / 1000
            }
        }
        return Double(maxUs) / 1000
    }

    /// The latest frame's lateness, in milliseconds.
    package var maxLateMs: Double { Double(state.withLock { $0.maxUs }) / 1000 }

    /// `{frames, late_p50_ms, late_p99_ms, late_max_ms}` (`count` names the first key): the
    /// p50 and p99 are bucket bounds ("at most").
    package func json(count: String = "frames") -> JSON {
        .object([
            (count, .int(frames)), ("late_p50_ms", lateMs(atFraction: 0.5).map { .double($0) } ?? .null),
            ("late_p99_ms", lateMs(atFraction: 0.99).map { .double($0) } ?? .null), ("late_max_ms", .double(maxLateMs)),
        ])
    }
}
