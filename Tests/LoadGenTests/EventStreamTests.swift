import CurlHTTP
import Testing

/// One SSE splitter for the test client and the load generator, by the WHATWG rules: a
/// relay that re-frames a stream legally (CRLF or CR line ends, comment lines, a blank
/// line split across reads) changes none of its events.
@Suite("Event streams")
struct EventStreamTests {
    /// Every event of `text` fed in two pieces, split at `at`.
    static func events(_ text: String, splitAt at: Int? = nil) -> [String] {
        let bytes = Array(text.utf8)
        var splitter = SSESplitter()
        var found: [String] = []
        let cut = at ?? bytes.count
        for piece in [bytes[..<cut], bytes[cut...]] {
            Array(piece).withUnsafeBytes { raw in
                splitter.feed(raw) { data, _ in found.append(String(decoding: data, as: UTF8.self)) }
            }
        }
        return found
    }

    static let stream = #"data: {"a":1}"# + "\n\n" + #"data: {"b":2}"# + "\n\n" + "data: [DONE]\n\n"
    static let expected = [#"{"a":1}"#, #"{"b":2}"#, "[DONE]"]

    @Test(arguments: ["\n", "\r\n", "\r"])
    func everyLineEndGivesTheSameEventsWhereverTheBytesSplit(_ end: String) {
        let text = Self.stream.replacingOccurrences(of: "\n", with: end)
        for at in 0...text.utf8.count {
            #expect(Self.events(text, splitAt: at) == Self.expected, "split at \(at) with \(end.debugDescription)")
        }
    }

    @Test func commentsAreNotEventsAndFieldsFollowTheRules() {
        let text = ": keep-alive\r\n\r\nevent: chunk\r\ndata:first\r\ndata: second\r\nid: 7\r\nretry: 10\r\n\r\n: bye\r\n\r\ndata\r\n\r\n"
        var names: [String?] = []
        var found: [String] = []
        var splitter = SSESplitter()
        Array(text.utf8).withUnsafeBytes { raw in
            splitter.feed(raw) { data, name in
                found.append(String(decoding: data, as: UTF8.self))
                names.append(name.map { String(decoding: $0, as: UTF8.self) })
            }
        }
        // Two data lines join with LF; a field with no colon is that field with an empty value.
        #expect(found == ["first\nsecond", ""])
        #expect(names == ["chunk", nil])
    }

    @Test func anEventWithoutItsBlankLineIsNotYetAnEvent() {
        #expect(Self.events("data: {\"a\":1}\ndata: x") == [])
        #expect(Self.events("data: {\"a\":1}\r") == [])
    }

    @Test func theTestClientReadsTheSame() {
        var parser = SSEParser()
        let events = parser.feed(Array(Self.stream.replacingOccurrences(of: "\n", with: "\r\n").utf8), at: .zero)
        #expect(events.map(\.data) == Self.expected && events.last?.isDone == true)
    }
}
