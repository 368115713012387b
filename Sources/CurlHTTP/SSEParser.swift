#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
/// get back the events they complete. Partial lines wait for the next feed. The test
/// client's view of `SSESplitter`, which the load generator uses directly.
package struct SSEParser: Sendable {
    private var splitter = SSESplitter()

    package init() {}

    package mutating func feed(_ bytes: [UInt8], at time: Duration) -> [SSEEvent] {
        var events: [SSEEvent] = []
        bytes.withUnsafeBytes { raw in
            splitter.feed(raw) { data, event in
                events.append(SSEEvent(data: String(decoding: data, as: UTF8.self), event: event.map { String(decoding: $0, as: UTF8.self) }, at: time))
            }
        }
        return events
    }
}

/// Splits an event stream into its events, byte by byte as it arrives (WHATWG HTML
/// §9.2.6): a line ends in CR, LF or CRLF (also when the CR and the LF arrive apart); a
/// blank line ends an event; a line that starts with `:` is a comment; `data:` lines join
/// with LF; one space after the colon is dropped. An event without data is no event.
/// So a relay that re-frames a stream legally (CRLF, comment keep-alives) changes nothing.
package struct SSESplitter: Sendable {
    /// The unfinished line at the end of the last feed.
    private var partial: [UInt8] = []
    /// The current event's data so far.
    private var data: [UInt8] = []
    private var hasData = false
    /// The current event's `event:` field.
    private var name: [UInt8]?
    /// The last feed ended in CR: an LF first in the next one ends no line.
    private var afterCR = false

    package init() {}

    /// Feeds bytes; `onEvent` gets each event they complete (its data, its `event:` name).
    package mutating func feed(_ bytes: UnsafeRawBufferPointer, _ onEvent: (ArraySlice<UInt8>, ArraySlice<UInt8>?) -> Void) {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count
        var start = 0
        if afterCR, count > 0, base.load(as: UInt8.self) == UInt8(ascii: "\n") { start = 1 }
        afterCR = false
        while start < count {
            // The next line end: memchr runs at memory speed, in debug builds too.
            let newline = memchr(base + start, Int32(UInt8(ascii: "\n")), count - start).map { UnsafeRawPointer($0) - base } ?? count
            let carriage = memchr(base + start, Int32(UInt8(ascii: "\r")), min(newline, count) - start).map { UnsafeRawPointer($0) - base } ?? count
            let end = min(newline, carriage)
            guard end < count else { break }
            if partial.isEmpty {
                line(UnsafeRawBufferPointer(start: base + start, count: end - start), onEvent)
            } else {
                partial.append(contentsOf: UnsafeRawBufferPointer(start: base + start, count: end - start))
                let whole = partial
                partial.removeAll(keepingCapacity: true)
                whole.withUnsafeBytes { line($0, onEvent) }
            }
            start = end + 1
            if end == carriage {
                if start < count {
                    if base.load(fromByteOffset: start, as: UInt8.self) == UInt8(ascii: "\n") { start += 1 }
                } else {
                    afterCR = true
                }
            }
        }
        if start < count { partial.append(contentsOf: UnsafeRawBufferPointer(start: base + start, count: count - start)) }
    }

    private mutating func line(_ line: UnsafeRawBufferPointer, _ onEvent: (ArraySlice<UInt8>, ArraySlice<UInt8>?) -> Void) {
        guard let first = line.first else {
            if hasData { onEvent(data[...], name?[...]) }
            data.removeAll(keepingCapacity: true)
            hasData = false
            name = nil
            return
        }
        if first == UInt8(ascii: ":") { return }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.count
        var valueStart = Swift.min(colon + 1, line.count)
        if valueStart < line.count, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let field = UnsafeRawBufferPointer(rebasing: line[0..<colon])
        let value = UnsafeRawBufferPointer(rebasing: line[valueStart..<line.count])
        if field.elementsEqual("data".utf8) {
            if hasData { data.append(UInt8(ascii: "\n")) }
            data.append(contentsOf: value)
            hasData = true
        } else if field.elementsEqual("event".utf8) {
            name = Array(value)
        }
    }
}
