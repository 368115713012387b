/// What came back from one transfer, including how it failed and when each piece of the body arrived.
public struct CurlResponse: Sendable {
    /// HTTP status (0 when no response head arrived).
    public var status: Int = 0
    public var headers: [(name: String, value: String)] = []
    public var body: [UInt8] = []
    /// Body pieces with their arrival time since the transfer started, as libcurl delivered them.
    public var chunks: [BodyChunk] = []
    /// Set when the transfer failed; the status and body hold whatever arrived before.
    public var error: CurlError?
    /// Time from start to the response head, when one arrived.
    public var timeToHeaders: Duration?
    public var total: Duration = .zero

    public init() {}

    /// The first value of a header, case-insensitively.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Server-sent events parsed from the body, each stamped with the arrival of the piece that completed it.
    public var events: [SSEEvent] {
        var parser = SSEParser()
        var events: [SSEEvent] = []
        for chunk in chunks {
            events += parser.feed(chunk.bytes, at: chunk.at)
        }
        return events
    }
}

/// A piece of a response body and when it arrived.
public struct BodyChunk: Sendable {
    public var at: Duration
    public var bytes: [UInt8]
}
