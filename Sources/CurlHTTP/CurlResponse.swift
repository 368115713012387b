/// What came back from one transfer, including how it failed and when each piece of the body arrived.
package struct CurlResponse: Sendable {
    /// HTTP status (0 when no response head arrived).
    package var status: Int = 0
    package var headers: [(name: String, value: String)] = []
    package var body: [UInt8] = []
    /// Body pieces with their arrival time since the transfer started, as libcurl delivered them.
    package var chunks: [BodyChunk] = []
    /// Set when the transfer failed; the status and body hold whatever arrived before.
    package var error: CurlError?
    /// Time from start to the response head, when one arrived.
    package var timeToHeaders: Duration?
    package var total: Duration = .zero

    package init() {}

    /// The first value of a header, case-insensitively.
    package func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

    package var text: String { String(decoding: body, as: UTF8.self) }

    /// Server-sent events parsed from the body, each stamped with the arrival of the piece that completed it.
    package var events: [SSEEvent] {
        var parser = SSEParser()
        var events: [SSEEvent] = []
        for chunk in chunks {
            events += parser.feed(chunk.bytes, at: chunk.at)
        }
        return events
    }
}

/// A piece of a response body and when it arrived.
package struct BodyChunk: Sendable {
    package var at: Duration
    package var bytes: [UInt8]
}
