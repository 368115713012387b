import BlueGreenRouter
import Foundation
import Testing

/// The proxy's byte relay, live: what reaches the upstream, and how each kind of response
/// framing reaches the client (RFC 9112), with a raw upstream for what the mock never sends.
@Suite("Router wire relay", .serialized, .sharesTheMachine)
struct WireRelayTests {
    /// A router whose blue and green are the same raw upstream, at green 0 %.
    private func withRawRig(_ respond: @escaping @Sendable (String) -> RawUpstream.Answer, _ body: (BlueGreenRouter, RawUpstream) async throws -> Void)
        async throws
    {
        let upstream = try RawUpstream(respond: respond)
        defer { upstream.stop() }
        let target = try UpstreamTarget(url: "http://127.0.0.1:\(upstream.port)", field: "blue")
        var configuration = RouterConfiguration(blue: target, green: target)
        configuration.healthInterval = nil
        let router = try BlueGreenRouter(configuration: configuration)
        try await router.start()
        do {
            try await body(router, upstream)
        } catch {
            await router.drain(timeout: .seconds(1))
            throw error
        }
        await router.drain(timeout: .seconds(2))
    }

    private func lines(_ text: String) -> [String] { text.components(separatedBy: "\r\n") }

    @Test func theUpstreamGetsTheRoutersFieldsAndNoHopByHopOnes() async throws {
        try await withRawRig({ _ in .init(bytes: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") }) { router, upstream in
            let reply = try RawSocket.exchange(
                port: UInt16(router.port),
                send: "GET /v1/models HTTP/1.1\r\nHost: client\r\nX-Environment: green\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\n"
                    + "Keep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: h2c\r\nProxy-Authorization: p\r\nAuthorization: Bearer k\r\n\r\n")
            let seen = try #require(upstream.requests.first)
            #expect(seen.hasPrefix("GET /v1/models HTTP/1.1\r\n"))
            let fields = Set(lines(seen).dropFirst().filter { !$0.isEmpty }.map { $0.lowercased().components(separatedBy: ":")[0] })
            #expect(fields == ["authorization", "host", "x-environment", "x-request-id"], "\(seen)")
            #expect(lines(seen).contains("host: 127.0.0.1:\(upstream.port)"))
            #expect(lines(seen).contains("x-environment: blue"))
            let id = try #require(lines(seen).first { $0.hasPrefix("x-request-id: rtr-") })
            #expect(reply.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(lines(reply).contains("x-environment: blue"))
            #expect(lines(reply).contains(id), "the client is told the id the upstream got")
            #expect(lines(reply).contains("connection: close"))
            #expect(reply.hasSuffix("\r\n\r\nok"))
        }
    }

    @Test func aResponseFramedByTheCloseReachesTheClientWholeThenTheConnectionCloses() async throws {
        try await withRawRig({ _ in .init(bytes: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it, until the close", close: true) }) {
            router, _ in
            let reply = try RawSocket.exchange(port: UInt16(router.port), send: "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(lines(reply).contains("connection: close"), "\(reply)")
            #expect(reply.hasSuffix("\r\n\r\nall of it, until the close"))
        }
    }

    @Test func chunkedResponsesWithTrailersPassAsTheyCameOnAReusedConnection() async throws {
        let chunked = "5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        try await withRawRig({ _ in .init(bytes: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked) }) { router, upstream in
            let request = "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"
            let reply = try RawSocket.exchange(
                port: UInt16(router.port), send: request + request + "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(reply.components(separatedBy: "\r\n\r\n" + chunked).count == 4, "\(reply)")
            #expect(upstream.requests.count == 3)
            #expect(upstream.connections == 1, "a chunked response that ended cleanly leaves its connection reusable")
        }
    }

    @Test func interimResponsesComeBeforeTheFinalOne() async throws {
        try await withRawRig({ _ in .init(bytes: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone") }) { router, _ in
            let body = #"{"model":"gpt-4.1"}"#
            let reply = try RawSocket.exchange(
                port: UInt16(router.port),
                send:
                    "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            )
            #expect(reply.hasPrefix("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"), "\(reply)")
            #expect(reply.hasSuffix("\r\n\r\ndone"))
        }
    }

    @Test func theAnswerToHEADHasNoBodyAndTheConnectionGoesOn() async throws {
        try await withRawRig({ request in
            request.hasPrefix("HEAD")
                ? .init(bytes: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n") : .init(bytes: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        }) { router, upstream in
            let reply = try RawSocket.exchange(
                port: UInt16(router.port), send: "HEAD /v1/models HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(reply.components(separatedBy: "HTTP/1.1 200 OK").count == 3, "\(reply)")
            #expect(reply.hasSuffix("\r\n\r\nhello"))
            #expect(upstream.connections == 1)
        }
    }

    @Test(arguments: [
        ("HTTP/1.1 2x0 OK\r\n\r\n", "upstream_malformed"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", "upstream_malformed"),
        ("HTTP/1.1 200 OK\r\nContent-Le", "upstream_closed"),
    ])
    func anUpstreamThatIsNotHTTPIsA502FromTheRouter(response: String, code: String) async throws {
        try await withRawRig({ _ in .init(bytes: response, close: true) }) { router, _ in
            let reply = try RawSocket.exchange(port: UInt16(router.port), send: "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(reply.hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"), "\(reply)")
            #expect(reply.contains(#""code":"\#(code)""#), "\(reply)")
            #expect(reply.contains(#""type":"router_error""#))
        }
    }

    @Test func aStreamCutByTheUpstreamIsCutForTheClientToo() async throws {
        try await withRawRig({ _ in .init(bytes: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\ndata: \r\n", close: true) }) { router, _ in
            let reply = try RawSocket.exchange(port: UInt16(router.port), send: "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(reply.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(reply.hasSuffix("6\r\ndata: \r\n"), "no made-up last chunk: \(reply.debugDescription)")
        }
    }

    @Test(arguments: [
        ("GET /v1/models HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        ("POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        ("GET /v1/models HTTP/1.7\r\n\r\n", 505),
        ("GET /v1/models HTTP/1.1\r\n<70 KiB of fields>\r\n", 431),
        ("POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nnot-hex\r\n", 400),
    ])
    func aBadRequestIsAnsweredWithItsStatusAndTheConnectionCloses(wire: String, status: Int) async throws {
        try await withRawRig({ _ in .init(bytes: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") }) { router, upstream in
            // (The long head is made here: a 70 KiB argument would fill the test log.)
            let bytes = wire.replacingOccurrences(
                of: "<70 KiB of fields>\r\n", with: String(repeating: "X-Pad: \(String(repeating: "a", count: 1000))\r\n", count: 70))
            let reply = try RawSocket.exchange(port: UInt16(router.port), send: bytes + "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(reply.hasPrefix("HTTP/1.1 \(status) "), "\(reply.prefix(200))")
            #expect(lines(reply).contains("connection: close"))
            #expect(reply.contains(#""code":"bad_request""#))
            #expect(reply.components(separatedBy: "HTTP/1.1 ").count == 2, "nothing after a bad request is answered")
            if status != 400 || !wire.contains("not-hex") { #expect(upstream.requests.isEmpty) }
        }
    }

    @Test func aChunkedRequestBodyReachesTheRelayIntact() async throws {
        try await withRig { rig in
            let body = chat()
            let half = body.utf8.count / 2
            let first = String(body.prefix(half))
            let second = String(body.dropFirst(half))
            let chunked =
                String(first.utf8.count, radix: 16) + "\r\n" + first + "\r\n" + String(second.utf8.count, radix: 16) + "\r\n" + second + "\r\n0\r\n\r\n"
            let reply = try RawSocket.exchange(
                port: UInt16(rig.router.port),
                send:
                    "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                    + chunked)
            #expect(reply.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(reply.prefix(300))")
            #expect(reply.contains(#""object":"chat.completion""#))
        }
    }
}
