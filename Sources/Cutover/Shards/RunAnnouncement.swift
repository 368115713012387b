import Foundation

/// What a coordinator tells its shards (`GET /run` on `--listen`): which run, where the
/// load goes, when it starts, and its own clock, from which each shard measures its offset.
package struct RunAnnouncement: Codable, Sendable, Equatable {
    package var suite: String
    package var seed: UInt64
    package var runID: String
    /// The schedule's digest: a shard that computes another refuses to run.
    package var schedule: String
    package var shards: Int
    /// The absolute start, in the coordinator's clock (Unix ms).
    package var startAtMs: Double
    /// The router's URL.
    package var target: String
    /// The coordinator's wall clock when it answered (Unix ms).
    package var nowMs: Double
    /// How the router relays answers, which decides how a shard's client reads them.
    package var relay: RelayKind? = nil
    /// Headers the load sends the router (the suite's key, the router profile's `load_headers`).
    package var loadHeaders: [String: String]? = nil
    /// False when the router takes no HTTP/2: the suite's `h2` clients go as HTTP/1.1.
    package var http2: Bool? = nil

    enum CodingKeys: String, CodingKey {
        case suite, seed, schedule, shards, target, relay, http2
        case runID = "run_id", startAtMs = "start_at_ms", nowMs = "now_ms", loadHeaders = "load_headers"
    }

    package var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    package static func decode(_ text: String) -> RunAnnouncement? {
        try? JSONDecoder().decode(RunAnnouncement.self, from: Data(text.utf8))
    }
}
