import CurlHTTP
import Foundation

/// A shard's view of its coordinator: the run's announcement, and this machine's clock
/// offset against the coordinator's, measured as NTP does (the exchange with the shortest
/// round trip, offset = coordinator time − the round trip's midpoint).
package struct CoordinatorClock: Sendable {
    package var announcement: RunAnnouncement
    /// This machine's clock minus the coordinator's, ms.
    package var offsetMs: Double
    /// The round trip of the exchange the offset came from: its error is at most half of it.
    package var roundTripMs: Double

    package struct Unreachable: Error, CustomStringConvertible {
        package var description: String
    }

    /// Asks `url/run` until the run is announced (up to `timeout`), then measures the offset
    /// over `exchanges` more requests. `shiftMs` moves this machine's clock (a test of the
    /// skew bound, `CUTOVER_TEST_CLOCK_SHIFT_MS`).
    package static func measure(_ url: String, timeout: Duration = .seconds(120), exchanges: Int = 7, shiftMs: Double = 0) async throws(Unreachable)
        -> CoordinatorClock
    {
        let client = CurlClient()
        let deadline = ContinuousClock.now + timeout
        var last = "no answer"
        while true {
            var samples: [CoordinatorClock] = []
            for _ in 0..<max(1, exchanges) {
                let sent = Date().timeIntervalSince1970 * 1_000 + shiftMs
                let response = await client.get(url + "/run", timeoutMs: 5_000)
                let received = Date().timeIntervalSince1970 * 1_000 + shiftMs
                guard response.status == 200, let announcement = RunAnnouncement.decode(response.text) else {
                    last = response.status == 0 ? "no answer" : "status \(response.status): \(response.text.prefix(200))"
                    break
                }
                samples.append(CoordinatorClock(announcement: announcement, offsetMs: (sent + received) / 2 - announcement.nowMs, roundTripMs: received - sent))
            }
            if samples.count == max(1, exchanges), let best = samples.min(by: { $0.roundTripMs < $1.roundTripMs }) { return best }
            guard ContinuousClock.now < deadline else { throw Unreachable(description: "coordinator \(url): \(last) after \(timeout)") }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}
