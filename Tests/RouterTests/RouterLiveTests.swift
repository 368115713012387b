import BlueGreenRouter
import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore
import Testing

/// The router between two live mocks: stickiness, movement, split, isolation, health gate,
/// failover, no retry after send, streaming, switches under open streams, drain, restart.
@Suite("Router, live", .serialized, .timeLimit(.minutes(10)), .needsTheWholeMachine)
struct RouterLiveTests {
    @Test func sessionsStickOverThousandsOfKeys() async throws {
        try await withRig { rig in
            #expect(await rig.admin("POST", "/admin/canary", #"{"percent":30}"#).status == 200)
            var first: [String: String] = [:]
            for i in 0..<2_000 {
                first["s\(i)"] = await rig.environment(session: "s\(i)")
            }
            var moved = 0
            for i in 0..<2_000 where await rig.environment(session: "s\(i)") != first["s\(i)"] {
                moved += 1
            }
            #expect(moved == 0)
            #expect(Set(first.values) == ["blue", "green"])
        }
    }

    @Test func weightChangesMoveSessionsOnlyInTheirDirection() async throws {
        try await withRig { rig in
            func snapshot() async -> [String?] {
                var result: [String?] = []
                for i in 0..<1_000 { result.append(await rig.environment(session: "k\(i)")) }
                return result
            }
            _ = await rig.admin("POST", "/admin/canary", #"{"percent":10}"#)
            let at10 = await snapshot()
            _ = await rig.admin("POST", "/admin/canary", #"{"percent":50}"#)
            let at50 = await snapshot()
            _ = await rig.admin("POST", "/admin/canary", #"{"percent":10}"#)
            let back = await snapshot()
            let up = zip(at10, at50).filter { $0 != $1 }
            let down = zip(at50, back).filter { $0 != $1 }
            #expect(!up.isEmpty && up.allSatisfy { $0 == "blue" && $1 == "green" })
            #expect(!down.isEmpty && down.allSatisfy { $0 == "green" && $1 == "blue" })
            #expect(back == at10)
        }
    }

    @Test func greenShareIsWithinBinomialTolerance() async throws {
        try await withRig { rig in
            _ = await rig.admin("POST", "/admin/canary", #"{"percent":10}"#)
            let n = 2_000
            var green = 0
            for i in 0..<n where await rig.environment(session: "share-\(i)") == "green" { green += 1 }
            let sd = (Double(n) * 0.1 * 0.9).squareRoot()
            #expect(abs(Double(green) - 0.1 * Double(n)) < 5 * sd, "green served \(green) of \(n)")
            #expect(rig.clientRequests(rig.green).count == green)
        }
    }

    @Test func anEnvironmentAtWeightZeroGetsNothing() async throws {
        try await withRig { rig in
            _ = await rig.admin("POST", "/admin/canary", #"{"percent":50}"#)
            for i in 0..<50 { _ = await rig.environment(session: "z\(i)") }
            #expect(await rig.admin("POST", "/admin/rollback").status == 200)
            let greenBefore = rig.clientRequests(rig.green).count
            for i in 0..<300 { #expect(await rig.environment(session: "z\(i)") == "blue") }
            #expect(rig.clientRequests(rig.green).count == greenBefore)

            #expect(await rig.admin("POST", "/admin/promote").status == 200)
            let blueBefore = rig.clientRequests(rig.blue).count
            for i in 0..<300 { #expect(await rig.environment(session: "z\(i)") == "green") }
            #expect(rig.clientRequests(rig.blue).count == blueBefore)
        }
    }

    @Test func canaryIsRefusedWhileGreenIsUnhealthyAndGreenGetsNothing() async throws {
        try await withRig { rig in
            try await rig.green.setFaults(faults("[{id: sick, kind: status, status: 503}]"))
            let refused = await rig.admin("POST", "/admin/canary", #"{"percent":10}"#)
            #expect(refused.status == 409)
            let message = (jsonObject(refused)["error"] as? [String: Any])?["message"] as? String
            #expect(message?.contains("green is unhealthy") == true, "\(String(describing: message))")
            for i in 0..<200 { #expect(await rig.environment(session: "h\(i)") == "blue") }
            #expect(rig.clientRequests(rig.green).isEmpty)
            #expect(rig.router.state.greenWeight == 0)

            // A slow green is degraded, not healthy: refused too.
            try await rig.green.setFaults(faults("[{id: slow, kind: latency, distribution: {type: fixed, ms: 1500}}]"))
            #expect(await rig.admin("POST", "/admin/canary", #"{"percent":10}"#).status == 409)

            try await rig.green.clearFaults()
            #expect(await rig.admin("POST", "/admin/canary", #"{"percent":10}"#).status == 200)
        }
    }

    @Test func connectFailuresFailOverToTheOtherEnvironment() async throws {
        try await withRig { rig in
            #expect(await rig.admin("POST", "/admin/promote").status == 200)
            try await rig.green.setFaults(faults("[{id: down, kind: outage, mode: refuse}]"))
            for i in 0..<100 {
                let response = await rig.client.post(rig.url + "/v1/chat/completions", json: chat(), headers: [("X-Session-ID", "f\(i)")])
                #expect(response.status == 200 && response.error == nil)
                #expect(response.header("X-Environment") == "blue")
            }
            #expect(rig.router.state.counts.failovers == 100)
            #expect(rig.clientRequests(rig.blue).count == 100)
        }
    }

    @Test func bothEnvironmentsDownIsA502FromTheRouter() async throws {
        try await withRig { rig in
            try await rig.blue.setFaults(faults("[{id: down, kind: outage, mode: refuse}]"))
            try await rig.green.setFaults(faults("[{id: down, kind: outage, mode: refuse}]"))
            let response = await rig.client.get(rig.url + "/v1/models")
            #expect(response.status == 502)
            #expect(response.header("X-Upstream-Env") == nil)
            #expect((jsonObject(response)["error"] as? [String: Any])?["code"] as? String == "upstream_unreachable")
        }
    }

    @Test func aRequestThatReachedAnUpstreamIsNeverRetried() async throws {
        try await withRig { rig in
            #expect(await rig.admin("POST", "/admin/promote").status == 200)
            // Accepted, then reset: the request reached green, so it must not go to blue.
            try await rig.green.setFaults(faults("[{id: rst, kind: outage, mode: reset}]"))
            let reset = await rig.client.post(rig.url + "/v1/chat/completions", json: chat(), headers: [("X-Request-ID", "once-1")])
            #expect(reset.status == 502)
            #expect(rig.green.ledger.entries().filter { $0.requestID == "once-1" }.count == 1)
            #expect(rig.blue.ledger.entries().filter { $0.requestID == "once-1" }.isEmpty)

            // Cut mid-stream: the client sees the truncation, and nothing is replayed.
            try await rig.green.setFaults(faults("[{id: cut, kind: stream-cut, after_chunks: 3}]"))
            let cut = await rig.client.post(rig.url + "/v1/chat/completions", json: chat(stream: true), headers: [("X-Request-ID", "once-2")])
            #expect(cut.status == 200)
            #expect(cut.error?.errorClass == .partial, "\(String(describing: cut.error))")
            #expect(!cut.events.contains { $0.isDone })
            #expect(rig.green.ledger.entries().filter { $0.requestID == "once-2" }.count == 1)
            #expect(rig.blue.ledger.entries().filter { $0.requestID == "once-2" }.isEmpty)
        }
    }

    @Test func streamsPassThroughIncrementally() async throws {
        try await withRig { rig in
            try await rig.blue.setFaults(faults("[{id: pace, kind: stream-pace, ttft_ms: 100, tokens_per_second: 10}]"))
            let direct = await CurlClient().post(rig.blue.url + "/v1/chat/completions", json: chat(maxTokens: 10, stream: true))
            let proxied = await rig.client.post(rig.url + "/v1/chat/completions", json: chat(maxTokens: 10, stream: true))
            #expect(proxied.error == nil && proxied.events.last?.isDone == true)
            let directFirst = try #require(direct.events.first?.at)
            let proxiedFirst = try #require(proxied.events.first?.at)
            let proxiedLast = try #require(proxied.events.last?.at)
            // ~1.2 s stream: the first event must arrive about when the mock sends it, not at the end.
            #expect(proxiedLast >= .milliseconds(1_100))
            #expect(proxiedFirst < directFirst + .milliseconds(150), "first event after \(proxiedFirst) vs direct \(directFirst)")
            #expect(proxied.events.count == direct.events.count)
            #expect(proxied.header("X-Environment") == "blue")
        }
    }

    /// An HTTP/1.0 client cannot read chunked framing (RFC 9112 §6.1): its stream comes
    /// whole, without Transfer-Encoding, and ends at the close, both from the mock and
    /// through the router.
    @Test func anHTTP10ClientGetsItsStreamEndedByTheCloseNotChunked() async throws {
        try await withRig { rig in
            let body = chat(maxTokens: 4, stream: true)
            let request = "POST /v1/chat/completions HTTP/1.0\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            // Asked to keep the connection (as proxies ask an upstream), a stream without a
            // length still ends at the close, and says so.
            let keptAlive = request.replacingOccurrences(of: "Host: x\r\n", with: "Host: x\r\nConnection: keep-alive\r\n")
            for (port, request) in [(rig.blue.port, request), (rig.router.port, request), (rig.blue.port, keptAlive)] {
                let reply = try RawSocket.exchange(port: UInt16(port), send: request)
                let head = reply.components(separatedBy: "\r\n\r\n")[0].lowercased()
                #expect(head.hasPrefix("http/1.") && head.contains(" 200 "), "\(reply)")
                #expect(!head.contains("transfer-encoding"), "\(head)")
                #expect(head.contains("connection: close"), "\(head)")
                #expect(reply.hasSuffix("data: [DONE]\n\n"), "\(reply.suffix(80))")
            }
            #expect(rig.clientRequests(rig.blue).allSatisfy { $0.httpVersion == "HTTP/1.0" })
        }
    }

    @Test(arguments: ["promote", "rollback"])
    func aStreamOpenAcrossASwitchEndsWithDone(action: String) async throws {
        try await withRig { rig in
            if action == "rollback" { #expect(await rig.admin("POST", "/admin/promote").status == 200) }
            let serving = action == "rollback" ? rig.green : rig.blue
            try await serving.setFaults(faults("[{id: pace, kind: stream-pace, ttft_ms: 50, tokens_per_second: 20}]"))
            async let stream = CurlClient().post(rig.url + "/v1/chat/completions", json: chat(maxTokens: 20, stream: true))
            try await waitFor { serving.ledger.entries().contains { $0.stream } }
            #expect(await rig.admin("POST", "/admin/\(action)").status == 200)
            let response = await stream
            #expect(response.error == nil)
            #expect(response.events.last?.isDone == true)
            let tokens = response.events.filter { $0.data.contains(#""content":""#) && !$0.data.contains(#""content":"""#) }
            #expect(tokens.count == 20)
            // New requests already go the other way.
            #expect(await rig.environment(session: "after") == (action == "promote" ? "green" : "blue"))
        }
    }

    @Test func drainLetsInFlightStreamsFinishAndRefusesNewConnections() async throws {
        try await withRig { rig in
            try await rig.blue.setFaults(faults("[{id: pace, kind: stream-pace, ttft_ms: 50, tokens_per_second: 20}]"))
            async let stream = CurlClient().post(rig.url + "/v1/chat/completions", json: chat(maxTokens: 20, stream: true))
            try await waitFor { rig.blue.ledger.entries().contains { $0.stream } }
            let cut = await rig.router.drain(timeout: .seconds(10))
            #expect(cut == 0)
            let response = await stream
            #expect(response.error == nil && response.events.last?.isDone == true)
            let after = await CurlClient().get(rig.url + "/v1/models", timeoutMs: 2_000)
            #expect(after.error?.errorClass == .refused)
        }
    }

    /// A stream whose head went out before the drain told its client the connection stays:
    /// the request the client sends on it next (here pipelined behind the stream) is
    /// answered, with `Connection: close`, not lost to a close at the stream's end
    /// (restart-persistence lost one so: its first attempt "closed unanswered").
    @Test func drainAnswersTheNextRequestOnAConnectionItsStreamKept() async throws {
        try await withRig { rig in
            try await rig.blue.setFaults(faults("[{id: pace, kind: stream-pace, ttft_ms: 0, tokens_per_second: 20}]"))
            let port = UInt16(rig.router.port)
            let body = chat(maxTokens: 20, stream: true)
            let requests =
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Request-ID: kept-1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                + "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Request-ID: kept-2\r\n\r\n"
            let exchange = Task.detached { try RawSocket.exchange(port: port, send: requests, timeoutSeconds: 8) }
            try await waitFor { rig.blue.ledger.entries().contains { $0.stream } }
            // The stream's head is out (no first-token delay): the drain comes mid-response.
            try await Task.sleep(for: .milliseconds(300))
            let cut = await rig.router.drain(timeout: .seconds(10))
            #expect(cut == 0)
            let reply = try await exchange.value
            let heads = reply.components(separatedBy: "\r\n\r\n").filter { $0.contains("HTTP/1.1 200 OK") }
            #expect(heads.count == 2, "\(reply.suffix(600))")
            #expect(reply.contains("data: [DONE]"))
            #expect(heads.first.map { !$0.lowercased().contains("connection: close") } == true, "the stream's head went out before the drain")
            #expect(heads.last.map { $0.lowercased().contains("connection: close") && $0.contains("kept-2") } == true, "\(heads.last ?? "")")
        }
    }

    @Test func drainTimeoutCutsWhatIsStillRunning() async throws {
        try await withRig { rig in
            try await rig.blue.setFaults(faults("[{id: slow, kind: stream-pace, ttft_ms: 0, tokens_per_second: 2}]"))
            async let stream = CurlClient().post(rig.url + "/v1/chat/completions", json: chat(maxTokens: 20, stream: true))
            try await waitFor { rig.blue.ledger.entries().contains { $0.stream } }
            let started = ContinuousClock.now
            let cut = await rig.router.drain(timeout: .milliseconds(300))
            #expect(cut == 1)
            #expect(ContinuousClock.now - started < .seconds(3))
            #expect(await stream.error != nil)
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withRig { rig in
            let port = UInt16(rig.router.port)
            let requests =
                (1...3).map { "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Request-ID: pipe-\($0)\r\n\r\n" }.joined()
                + "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Request-ID: pipe-4\r\nContent-Length: \(chat().utf8.count)\r\nConnection: close\r\n\r\n\(chat())"
            let reply = try RawSocket.exchange(port: port, send: requests)
            let ids = reply.components(separatedBy: "\r\n").filter { $0.lowercased().hasPrefix("x-request-id:") }.map {
                $0.dropFirst(14).trimmingCharacters(in: .whitespaces)
            }
            #expect(ids == ["pipe-1", "pipe-2", "pipe-3", "pipe-4"], "\(reply.prefix(400))")
            #expect(reply.components(separatedBy: "HTTP/1.1 200 OK").count == 5)
            #expect(reply.contains(#""object":"chat.completion""#))
        }
    }

    @Test func aRestartedRouterResumesItsWeights() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-state-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let before = try await withRig(configure: { $0.stateFile = path }) { rig in
            #expect(await rig.admin("POST", "/admin/canary", #"{"percent":30}"#).status == 200)
            var envs: [String?] = []
            for i in 0..<200 { envs.append(await rig.environment(session: "r\(i)")) }
            return envs
        }
        try await withRig(configure: { $0.stateFile = path }) { rig in
            #expect(rig.router.state.greenWeight == 30)
            let status = jsonObject(await rig.admin("GET", "/admin/status"))
            #expect((status["weights"] as? [String: Int])?["green"] == 30)
            #expect(status["deployment_started"] is String)
            var envs: [String?] = []
            for i in 0..<200 { envs.append(await rig.environment(session: "r\(i)")) }
            #expect(envs == before)
        }
    }
}
