import Foundation

/// Monotonic microseconds since the run started: the ledger's clock, which the
/// timeline runner shares so router actions and requests are on one time line.
package struct RunClock: Sendable {
    let startNanos: UInt64

    package init() { startNanos = Self.monotonicNanos() }

    /// A clock that read zero at the wall-clock time `wallStartMs` (Unix ms), which must
    /// not be in the future: shards that waited for one absolute start share one time line,
    /// and a shard that woke late shows it as scheduling lag.
    package init(wallStartMs: Double) {
        let agoNanos = UInt64(max(0, Date().timeIntervalSince1970 * 1_000 - wallStartMs) * 1_000_000)
        startNanos = Self.monotonicNanos() &- agoNanos
    }

    package var nowMicros: UInt32 { UInt32(truncatingIfNeeded: (Self.monotonicNanos() &- startNanos) / 1_000) }
    package var nowNanos: UInt64 { Self.monotonicNanos() &- startNanos }

    /// Sleeps until the clock reads `micros` (returns at once when that is past).
    package func sleep(untilMicros micros: UInt64) async {
        let now = nowNanos / 1_000
        guard micros > now else { return }
        try? await Task.sleep(for: .microseconds(micros - now))
    }

    static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
