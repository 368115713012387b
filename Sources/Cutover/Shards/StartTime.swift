import Foundation

/// The absolute start shards wait for (`--start-at T0`), so that the stripes of one
/// schedule start together on every machine.
package enum StartTime {
    /// Unix seconds (`1796421600.5`) or ISO 8601 (`2026-12-04T21:50:00Z`), as Unix ms.
    package static func parse(_ text: String) -> Double? {
        if let seconds = Double(text), seconds.isFinite, seconds > 0 { return seconds * 1_000 }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date.timeIntervalSince1970 * 1_000 }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text).map { $0.timeIntervalSince1970 * 1_000 }
    }

    /// The wall clock now, as Unix ms.
    package static var nowMs: Double { Date().timeIntervalSince1970 * 1_000 }

    /// Sleeps until the wall clock reads `ms` (returns at once when that is past).
    package static func wait(untilMs ms: Double) async throws {
        let left = ms - nowMs
        if left > 0 { try await Task.sleep(for: .milliseconds(left)) }
    }
}
