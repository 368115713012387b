/// One server-sent event.
package struct SSEEvent: Sendable, Equatable {
    /// The `data:` lines joined with newlines.
    package var data: String
    /// The `event:` field, when present.
    package var event: String?
    /// When the bytes that completed the event arrived.
    package var at: Duration

    package var isDone: Bool { data == "[DONE]" }
}

/// Incremental SSE parser (the WHATWG event-stream format): feed bytes as they arrive,
/// get back the events they complete. Partial lines wait for the next feed.
package struct SSEParser: Sendable {
    private var pending: [UInt8] = []
    private var data: [String] = []
    private var event: String?

    package init() {}

    package mutating func feed(_ bytes: [UInt8], at time: Duration) -> [SSEEvent] {
        pending += bytes
        var events: [SSEEvent] = []
        var start = 0
        var index = 0
        while index < pending.count {
            let byte = pending[index]
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                let line = String(decoding: pending[start..<index], as: UTF8.self)
                if byte == UInt8(ascii: "\r"), index + 1 < pending.count, pending[index + 1] == UInt8(ascii: "\n") { index += 1 }
                start = index + 1
                if line.isEmpty {
                    if !data.isEmpty { events.append(SSEEvent(data: data.joined(separator: "\n"), event: event, at: time)) }
                    data = []
                    event = nil
                } else if line.hasPrefix(":") {
                    // Comment line.
                } else {
                    let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                    var value = parts.count > 1 ? String(parts[1]) : ""
                    if value.hasPrefix(" ") { value.removeFirst() }
                    switch parts[0] {
                    case "data": data.append(value)
                    case "event": event = value
                    default: break
                    }
                }
            }
            index += 1
        }
        pending.removeFirst(start)
        return events
    }
}
