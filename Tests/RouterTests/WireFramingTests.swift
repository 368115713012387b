import NIOCore
import Testing

@testable import BlueGreenRouter

/// The proxy's own HTTP/1.x reading, as pure functions: heads, their errors, body framing at
/// every split, and the heads written for the next hop.
@Suite("HTTP/1.x on the wire")
struct WireFramingTests {
    private func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    private func request(_ text: String) throws -> MessageHead {
        var bytes = buffer(text)
        var scanned = 0
        return try #require(try MessageHead.take(from: &bytes, kind: .request, scanned: &scanned))
    }

    private func malformed(_ text: String, kind: MessageHead.Kind = .request) -> MessageHead.Malformed? {
        var bytes = buffer(text)
        var scanned = 0
        do {
            _ = try MessageHead.take(from: &bytes, kind: kind, scanned: &scanned)
            return nil
        } catch {
            return error
        }
    }

    private func text(_ head: MessageHead, _ field: MessageHead.Field) -> String {
        String(buffer: head.bytes.getSlice(at: head.bytes.readerIndex + field.value.lowerBound, length: field.value.count)!)
    }

    @Test func aRequestHeadIsReadInPlace() throws {
        let head = try request("POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nX-Session-ID:  s-1 \r\nX-Request-ID: r-9\r\n\r\n")
        #expect(head.minorVersion == 1)
        #expect(!head.isHEAD)
        #expect(head.contentLength == 12)
        #expect(head.transferCoding == .none)
        #expect(head.keepAlive)
        #expect(head.fields.map(\.role) == [.host, .contentLength, .other, .requestID])
        #expect(text(head, head.fields[2]) == "s-1")
        #expect(head.value(of: Array("x-session-id".utf8)).map { String(buffer: $0) } == "s-1")
        #expect(head.value(of: .requestID).map { String(buffer: $0) } == "r-9")
    }

    @Test func aHeadThatArrivesByteByByteIsTakenOnceWholeAndLeavesWhatFollows() throws {
        let wire = Array("GET /v1/models HTTP/1.1\r\nHost: a\r\n\r\nGET /next".utf8)
        var bytes = ByteBuffer()
        var scanned = 0
        var taken: MessageHead?
        for (offset, byte) in wire.enumerated() {
            bytes.writeInteger(byte)
            taken = try MessageHead.take(from: &bytes, kind: .request, scanned: &scanned)
            if taken != nil {
                #expect(offset == wire.count - "GET /next".utf8.count - 1)
                break
            }
        }
        #expect(taken != nil)
        #expect(String(buffer: bytes) == "")  // the rest had not been written yet
        bytes.writeString("GET /x HTTP/1.1\r\n\r\n")
        #expect(try MessageHead.take(from: &bytes, kind: .request, scanned: &scanned) != nil)
    }

    @Test func bareLineFeedsAndLeadingEmptyLinesAreAccepted() throws {
        let head = try request("\r\nGET /v1/models HTTP/1.0\nHost: a\nConnection: keep-alive\n\n")
        #expect(head.minorVersion == 0)
        #expect(head.keepAlive)
        #expect(try request("GET / HTTP/1.0\r\n\r\n").keepAlive == false)
        #expect(try request("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keepAlive == false)
        #expect(try request("HEAD / HTTP/1.1\r\n\r\n").isHEAD)
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length: -3\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\n\r\n", 400),
        ("GET / HTTP/1.2\r\n\r\n", 505),
        ("GET /a b HTTP/1.1\r\n\r\n", 400),
        ("G(T / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nX-A: a\u{01}b\r\n\r\n", 400),
        ("GET\r\n\r\n", 400),
    ])
    func aMalformedRequestHeadIsRefusedWithItsStatus(wire: String, status: Int) {
        #expect(malformed(wire)?.status == status, "\(wire.debugDescription)")
    }

    @Test func repeatedEqualLengthsAreOneLength() throws {
        #expect(try request("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n").contentLength == 5)
    }

    @Test func aHeadLongerThanTheLimitIs431() {
        let long = "GET / HTTP/1.1\r\n" + String(repeating: "X-Pad: \(String(repeating: "a", count: 1000))\r\n", count: 70)
        #expect(malformed(long)?.status == 431)  // no end yet, and already too long
        #expect(malformed(long + "\r\n")?.status == 431)
    }

    @Test func responseHeadsAndTheirErrors() throws {
        var bytes = buffer("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nContent-Length: 0\r\n\r\n")
        var scanned = 0
        let head = try #require(try MessageHead.take(from: &bytes, kind: .response, scanned: &scanned))
        #expect(head.status == 429)
        #expect(head.contentLength == 0)
        #expect(malformed("HTTP/1.1 2x0 OK\r\n\r\n", kind: .response)?.status == 502)
        #expect(malformed("SPDY/3 200 OK\r\n\r\n", kind: .response)?.status == 502)
        #expect(malformed("HTTP/1.1 200 OK\r\nA B: c\r\n\r\n", kind: .response)?.status == 502)
    }

    @Test func connectionNamesMoreHopByHopFields() throws {
        let head = try request("GET / HTTP/1.1\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\nX-Keep: 2\r\n\r\n")
        #expect(head.connectionClose)
        let relayed = head.fields.filter { head.isRelayed($0) }.map { text(head, $0) }
        #expect(relayed == ["2"])
    }

    // MARK: - Body framing

    /// Feeds `wire` in pieces of `step` bytes; returns the bytes the body took, and whether it ended.
    private func frame(_ framing: BodyFraming, _ wire: [UInt8], step: Int) throws -> (used: Int, complete: Bool) {
        var framing = framing
        var used = 0
        var offset = 0
        while offset < wire.count, !framing.isComplete {
            let end = min(wire.count, offset + step)
            let taken = try wire[offset..<end].withUnsafeBytes { try framing.consume($0) }
            used += taken
            offset += taken
            if taken < end - (offset - taken) { break }
        }
        return (used, framing.isComplete)
    }

    @Test func aChunkedBodyEndsExactlyAtItsEndWhateverTheSplit() throws {
        let body = "5;ext=1\r\nhello\r\n1A\r\n" + String(repeating: "x", count: 26) + "\r\n0\r\nX-Trailer: t\r\n\r\n"
        let wire = Array((body + "GET /next HTTP/1.1\r\n").utf8)
        for step in 1...wire.count {
            let (used, complete) = try frame(.chunked, wire, step: step)
            #expect(complete, "step \(step)")
            #expect(used == body.utf8.count, "step \(step)")
        }
    }

    @Test func aLengthBodyEndsAtItsLength() throws {
        let wire = Array("0123456789NEXT".utf8)
        for step in 1...wire.count {
            let (used, complete) = try frame(.length(10), wire, step: step)
            #expect(complete && used == 10, "step \(step)")
        }
        #expect(BodyFraming.length(0).isComplete)
    }

    @Test(arguments: ["zz\r\n", "5\r\nhelloX\r\n", "\r\n", "5\r\nhello\r\n0\r\n\rX"])
    func aMalformedChunkedBodyIsAnError(wire: String) {
        var framing = BodyFraming.chunked
        #expect(throws: BodyFraming.Malformed.self) {
            _ = try Array(wire.utf8).withUnsafeBytes { try framing.consume($0) }
        }
    }

    @Test func responseFramingFollowsRFC9112() throws {
        func response(_ text: String) throws -> MessageHead {
            var bytes = buffer(text)
            var scanned = 0
            return try #require(try MessageHead.take(from: &bytes, kind: .response, scanned: &scanned))
        }
        #expect(BodyFraming.response(try response("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"), toHEAD: true).isComplete)
        #expect(BodyFraming.response(try response("HTTP/1.1 204 No Content\r\n\r\n"), toHEAD: false).isComplete)
        #expect(BodyFraming.response(try response("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"), toHEAD: false).isComplete)
        #expect(BodyFraming.response(try response("HTTP/1.1 200 OK\r\n\r\n"), toHEAD: false).endsAtClose)
        #expect(BodyFraming.response(try response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), toHEAD: false).endsAtClose)
        #expect(!BodyFraming.response(try response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), toHEAD: false).isComplete)
        #expect(throws: MessageHead.Malformed.self) { try BodyFraming.request(try request("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n")) }
    }

    // MARK: - Heads for the next hop

    @Test func theUpstreamGetsTheRequestWithTheRoutersFieldsOnly() throws {
        let head = try request(
            "POST /v1/chat/completions?x=1 HTTP/1.1\nHost: router\nX-Environment: green\nConnection: X-Hop\nX-Hop: 1\nProxy-Authorization: p\nAuthorization: Bearer k\nContent-Length: 2\n\n"
        )
        var out = ByteBuffer()
        head.writeUpstreamRequest(into: &out, host: "127.0.0.1:9", environment: .blue, generatedRequestID: ByteBuffer(string: "rtr-1"))
        #expect(
            String(buffer: out)
                == "POST /v1/chat/completions?x=1 HTTP/1.1\r\nAuthorization: Bearer k\r\nContent-Length: 2\r\nhost: 127.0.0.1:9\r\nx-environment: blue\r\nx-request-id: rtr-1\r\n\r\n"
        )
    }

    @Test func theClientGetsTheResponseStampedAndClosedWhenAsked() throws {
        var bytes = buffer("HTTP/1.0 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=5\r\nX-Environment: lie\r\n\r\n")
        var scanned = 0
        let head = try #require(try MessageHead.take(from: &bytes, kind: .response, scanned: &scanned))
        var out = ByteBuffer()
        head.writeClientResponse(into: &out, environment: .green, requestID: ByteBuffer(string: "r-1"), close: true)
        #expect(String(buffer: out) == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nx-environment: green\r\nx-request-id: r-1\r\nconnection: close\r\n\r\n")
    }
}
