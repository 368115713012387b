import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore
import MockUpstream
import NIOCore
import Testing

/// Each fault kind, observed from the client side through libcurl.
/// Serialized: several of these measure time.
@Suite("Faults", .serialized, .needsTheWholeMachine)
struct FaultTests {
    let client = CurlClient()

    @Test func fixedAndUniformLatencyStayWithinBounds() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: slow, kind: latency, distribution: {type: fixed, ms: 150}}]"))
            let fixed = await client.get(mock.url + "/v1/models")
            #expect(fixed.status == 200)
            #expect(fixed.header("X-Mock-Fault") == "slow")
            let headersAt = try #require(fixed.timeToHeaders)
            #expect(headersAt >= .milliseconds(150))
            #expect(headersAt < .milliseconds(1_000))

            try await mock.setFaults(faults("[{id: jitter, kind: latency, distribution: {type: uniform, min_ms: 40, max_ms: 90}}]"))
            for _ in 0..<8 {
                let response = await client.get(mock.url + "/v1/models")
                let at = try #require(response.timeToHeaders)
                #expect(at >= .milliseconds(40))
                #expect(at < .milliseconds(600))
            }
        }
    }

    @Test func distributionsSampleWithinTheirBounds() {
        let distributions: [LatencyDistribution] = [
            .fixed(ms: 5), .uniform(minMs: 10, maxMs: 20), .normal(meanMs: 50, stddevMs: 10, capMs: 200),
            .lognormal(medianMs: 30, sigma: 0.5, capMs: 400), .pareto(scaleMs: 10, shape: 1.5, capMs: 500),
        ]
        for distribution in distributions {
            var samples: [Double] = []
            for i in 0..<4_000 {
                let u1 = SeededRandom.unit(seed: 1, stream: 1, index: UInt64(2 * i))
                let u2 = SeededRandom.unit(seed: 1, stream: 1, index: UInt64(2 * i + 1))
                samples.append(distribution.sample(u1, u2))
            }
            #expect(samples.allSatisfy { distribution.bounds.contains($0) }, "\(distribution)")
            let sorted = samples.sorted()
            let median = sorted[sorted.count / 2]
            switch distribution {
            case .normal: #expect(abs(median - 50) < 2)
            case .lognormal: #expect(abs(median - 30) < 2)
            case .uniform: #expect(abs(median - 15) < 0.5)
            case .pareto: #expect(abs(median - 10 * pow(2, 1 / 1.5)) < 1)
            case .fixed: #expect(median == 5)
            }
        }
    }

    @Test func statusFaultSendsOpenAIErrorWithRetryAfterAndRateLimitHeaders() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: limited, kind: status, status: 429, retry_after: 7, headers: {x-extra: one}}]"))
            let response = await client.post(mock.url + "/v1/chat/completions", json: chatBody())
            #expect(response.status == 429)
            #expect(response.header("Retry-After") == "7")
            #expect(response.header("x-ratelimit-remaining-requests") == "0")
            #expect(response.header("x-ratelimit-reset-requests") == "7s")
            #expect(response.header("x-extra") == "one")
            #expect(response.header("X-Mock-Fault") == "limited")
            let error = errorInfo(response)
            #expect(error["code"] as? String == "rate_limit_exceeded")
            #expect(error.keys.sorted() == ["code", "message", "param", "type"])

            let date = "Wed, 21 Oct 2026 07:28:00 GMT"
            try await mock.setFaults(faults("[{id: down, kind: status, status: 503, retry_after: '\(date)'}]"))
            let unavailable = await client.get(mock.url + "/v1/models")
            #expect(unavailable.status == 503)
            #expect(unavailable.header("Retry-After") == date)
            #expect(errorInfo(unavailable)["type"] as? String == "server_error")
        }
    }

    @Test func refuseClosesTheListenerAndClearingReopensTheSamePort() async throws {
        try await withMock { mock in
            let port = mock.port
            #expect(await client.get(mock.url + "/v1/models").status == 200)
            try await mock.setFaults(faults("[{id: down, kind: outage, mode: refuse}]"))
            let refused = await client.get(mock.url + "/v1/models", timeoutMs: 2_000)
            #expect(refused.error?.errorClass == .refused, "\(String(describing: refused.error))")
            try await mock.clearFaults()
            #expect(mock.port == port)
            let back = await CurlClient().get(mock.url + "/v1/models")
            #expect(back.status == 200)
        }
    }

    @Test func resetAbortsTheConnection() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: rst, kind: outage, mode: reset}]"))
            let response = await client.get(mock.url + "/v1/models", timeoutMs: 2_000)
            #expect(response.status == 0)
            #expect(response.error?.errorClass == .reset, "\(String(describing: response.error))")
            let entry = try #require(mock.ledger.entries().last)
            #expect(entry.outcome == .reset)
            #expect(entry.faults == ["rst"])
        }
    }

    @Test func hangNeverAnswersUntilTheClientGivesUp() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: stuck, kind: outage, mode: hang}]"))
            let started = ContinuousClock.now
            let response = await client.get(mock.url + "/v1/models", timeoutMs: 400)
            #expect(response.error?.errorClass == .timeout, "\(String(describing: response.error))")
            // curl's timer and ours start a moment apart: the point is it held until the client gave up.
            #expect(ContinuousClock.now - started >= .milliseconds(350))
            // The mock sees the client leave and records the request as hung.
            try await waitFor { mock.ledger.entries().last?.outcome == .hung }
        }
    }

    @Test func clearingAHangReleasesHeldConnections() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: stuck, kind: outage, mode: hang}]"))
            async let held = CurlClient().get(mock.url + "/v1/models", timeoutMs: 10_000)
            try await waitFor { mock.ledger.entries().count == 1 }
            let started = ContinuousClock.now
            try await mock.clearFaults()
            let response = await held
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(response.error?.errorClass == .reset, "\(String(describing: response.error))")
            #expect(mock.ledger.entries().last?.outcome == .hung)
        }
    }

    @Test func bodyModesBreakTheBodyInTheirOwnWay() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: e, kind: body, mode: empty}]"))
            let empty = await client.post(mock.url + "/v1/chat/completions", json: chatBody())
            #expect(empty.status == 200 && empty.error == nil && empty.body.isEmpty)

            try await mock.setFaults(faults("[{id: t, kind: body, mode: truncate}]"))
            let truncated = await client.post(mock.url + "/v1/chat/completions", json: chatBody())
            #expect(truncated.status == 200)
            #expect(truncated.error?.errorClass == .partial, "\(String(describing: truncated.error))")
            #expect(!truncated.body.isEmpty)

            try await mock.setFaults(faults("[{id: m, kind: body, mode: malformed-json}]"))
            let malformed = await client.post(mock.url + "/v1/chat/completions", json: chatBody())
            #expect(malformed.status == 200 && malformed.error == nil)
            #expect(malformed.text.hasPrefix("{"))
            #expect((try? JSONSerialization.jsonObject(with: Data(malformed.body))) == nil)

            try await mock.setFaults(faults("[{id: g, kind: body, mode: garbage}]"))
            let garbage = await client.get(mock.url + "/v1/models")
            #expect(garbage.status == 200 && garbage.error == nil && garbage.body.count == 256)
            #expect((try? JSONSerialization.jsonObject(with: Data(garbage.body))) == nil)
            #expect(garbage.header("X-Mock-Fault") == "g")
        }
    }

    @Test func streamCutClosesMidStream() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: cut, kind: stream-cut, after_chunks: 3}]"))
            let response = await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 10, stream: true))
            #expect(response.status == 200)
            #expect(response.error?.errorClass == .partial, "\(String(describing: response.error))")
            #expect(response.events.count == 3)
            #expect(!response.events.contains { $0.isDone })
            #expect(mock.ledger.entries().last?.outcome == .cut)
            // The fault applies to streams only: a plain completion is untouched.
            let plain = await client.post(mock.url + "/v1/chat/completions", json: chatBody())
            #expect(plain.status == 200 && plain.error == nil && plain.header("X-Mock-Fault") == "none")
        }
    }

    /// idle-close ends a kept-alive connection with a bare FIN once it has been idle the
    /// drawn time, and not while requests keep coming sooner than that.
    @Test func idleCloseClosesAKeptAliveConnectionOnceIdle() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: idle, kind: idle-close, idle_ms: {type: fixed, ms: 300}}]"))
            let connection = try RawConnection(port: mock.port)
            for _ in 0..<4 {
                let head = try connection.get("/v1/models")
                #expect(head.hasPrefix("HTTP/1.1 200"))
                #expect(!head.lowercased().contains("connection: close"), "an idle close gives no warning")
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(mock.ledger.idleCloses == 0)
            let idleFrom = ContinuousClock.now
            #expect(try connection.waitForClose())
            let idle = ContinuousClock.now - idleFrom
            #expect(idle >= .milliseconds(180) && idle < .seconds(2), "closed after \(idle)")
            #expect(mock.ledger.idleCloses == 1)
            #expect(mock.ledger.entries().allSatisfy { $0.faults == ["idle"] && $0.outcome == .completed })
        }
    }

    /// limit-data cuts the connection after exactly that many body bytes, whole body or
    /// stream, and the ledger holds what left: the bytes and their digest.
    @Test func limitDataCutsAfterThatManyBodyBytes() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: limit, kind: limit-data, bytes: 57}]"))
            for stream in [false, true] {
                let response = await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 40, stream: stream))
                #expect(response.status == 200)
                #expect(response.error?.errorClass == .partial, "\(String(describing: response.error))")
                #expect(response.body.count == 57)
                let entry = try #require(mock.ledger.entries().last)
                #expect(entry.outcome == .cut && entry.bytes == 57 && entry.faults == ["limit"])
                var digest = Digest64()
                response.body.withUnsafeBytes { digest.add($0) }
                #expect(entry.bodyDigest == digest.value)
            }
            // A body shorter than the limit goes through whole.
            try await mock.setFaults(faults("[{id: roomy, kind: limit-data, bytes: 100000}]"))
            let whole = await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 4, stream: true))
            #expect(whole.error == nil && whole.events.last?.isDone == true)
            await mock.ledger.waitUntilSettled(timeout: .seconds(2))
            #expect(mock.ledger.entries().last?.outcome == .completed)
        }
    }

    /// slicer delivers the body in pieces with pauses between them; bandwidth paces it;
    /// both deliver every byte, and the answer is the same as without them.
    @Test func slicerAndBandwidthDeliverTheWholeBodySlowly() async throws {
        try await withMock { mock in
            let plain = await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 30))
            #expect(plain.error == nil)
            let size = plain.body.count
            #expect(size > 400)

            try await mock.setFaults(faults("[{id: slices, kind: slicer, size_bytes: 100, delay_ms: 60}]"))
            let sliced = await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 30))
            #expect(sliced.error == nil && sliced.body.count == size)
            #expect(sliced.header("X-Mock-Fault") == "slices")
            let pauses = (size - 1) / 100
            #expect(sliced.total >= .milliseconds(60 * pauses - 30), "\(sliced.total) for \(pauses) pauses")
            #expect(sliced.chunks.count >= 3, "the pieces arrive apart")

            try await mock.setFaults(faults("[{id: slow, kind: bandwidth, bytes_per_second: 2000}]"))
            let paced = await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 30))
            #expect(paced.error == nil && paced.body.count == size)
            let expected = Double(size) / 2_000 - 0.01 - 0.05
            #expect(paced.total >= .milliseconds(Int(expected * 1_000)), "\(paced.total) for \(size) bytes at 2,000 B/s")
            // The client may have the last byte a moment before the mock records the end.
            await mock.ledger.waitUntilSettled(timeout: .seconds(2))
            #expect(mock.ledger.entries().suffix(2).allSatisfy { $0.outcome == .completed && $0.bytes == size })
        }
    }

    @Test func streamStallPausesThenResumes() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: stall, kind: stream-stall, after_chunks: 2, stall_ms: 300}]"))
            let response = await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 4, stream: true))
            #expect(response.error == nil)
            let events = response.events
            #expect(events.last?.isDone == true)
            #expect(events.count == 4 + 3)
            #expect(events[2].at - events[1].at >= .milliseconds(250))  // a 300 ms stall, less arrival jitter
            #expect(events[1].at - events[0].at < .milliseconds(200))
        }
    }

    @Test func streamErrorSendsAnErrorEventInsideA200() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: boom, kind: stream-error, after_chunks: 2}]"))
            let response = await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 6, stream: true))
            #expect(response.status == 200 && response.error == nil)
            let events = jsonEvents(response)
            #expect(events.count == 3)
            let error = try #require(events.last?["error"] as? [String: Any])
            #expect(error["type"] as? String == "server_error")
            #expect(!response.events.contains { $0.isDone })
        }
    }

    @Test func streamNoDoneEndsCleanlyWithoutDone() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: nodone, kind: stream-no-done}]"))
            let response = await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 4, stream: true))
            #expect(response.status == 200 && response.error == nil)
            #expect(response.events.count == 4 + 2)
            #expect(!response.events.contains { $0.isDone })
        }
    }

    @Test func streamPaceSetsTimeToFirstTokenAndInterTokenGap() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: pace, kind: stream-pace, ttft_ms: 200, tokens_per_second: 20}]"))
            let response = await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 6, stream: true))
            let events = response.events
            #expect(events.count == 6 + 3)
            let headersAt = try #require(response.timeToHeaders)
            #expect(events[0].at - headersAt >= .milliseconds(150))  // a 200 ms time to first token, less arrival jitter
            let span = events[events.count - 1].at - events[0].at
            // 8 gaps of 50 ms after the first event (a late first event can shorten the observed span).
            #expect(span >= .milliseconds(300))
            #expect(span < .milliseconds(2_000))
        }
    }

    /// Frames are due at absolute times (the head's time plus the delays before each), so
    /// hundreds of streams paced at once end on time instead of drifting by each write's cost.
    @Test func manyPacedStreamsKeepTheirPace() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: pace, kind: stream-pace, ttft_ms: 100, tokens_per_second: 50}]"))
            // 250 streams in a second, each 100 ms + 22 gaps of 20 ms = 540 ms from send to [DONE]
            // (about 135 open at once: what a debug-built mock and generator on two cores carry
            // beside each other; bench/streams.sh paces 10,000 in a release build).
            var plan = LoadPlan(url: mock.url, model: .open(rate: 250), duration: .seconds(1))
            plan.mix = [.init(endpoint: .chatStream, weight: 1, maxTokens: 20)]
            let result = await LoadGenerator.run(plan)
            #expect(result.summary.outcomes == [.ok: 250])
            let spans = result.ledger.records.map { Int($0.doneUs) - Int($0.sentUs) }.sorted()
            // A stream ends at most as late as the mock's own loops ran (a debug build on two
            // cores runs them tens of ms late), not by 22 frames' worth of accumulated lateness.
            let loopLagUs = Int((mock.keepingUp.loopLagP99Ms ?? 0) * 1_000)
            #expect(
                spans[spans.count / 2] >= 530_000 && spans[spans.count / 2] < 600_000 + loopLagUs,
                "median \(spans[spans.count / 2]) us, the mock's loops \(loopLagUs) us late (p99)")
            #expect(spans[spans.count * 9 / 10] < 800_000 + loopLagUs, "p90 \(spans[spans.count * 9 / 10]) us, the mock's loops \(loopLagUs) us late (p99)")
        }
    }

    /// A relay that batches tokens: `tokens_per_chunk` groups them into fewer, larger events at
    /// the same token pace, and the text is the same as token by token.
    @Test func tokensPerChunkGroupsTheContent() async throws {
        try await withMock { mock in
            func content(_ response: CurlResponse) -> String {
                response.events.filter { !$0.isDone }.compactMap { event -> String? in
                    let object = (try? JSONSerialization.jsonObject(with: Data(event.data.utf8))) as? [String: Any]
                    let delta = ((object?["choices"] as? [[String: Any]])?.first?["delta"]) as? [String: Any]
                    return delta?["content"] as? String
                }.joined()
            }
            let single = await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 10, stream: true, prompt: "same"))
            try await mock.setFaults(faults("[{id: batched, kind: stream-pace, ttft_ms: 0, tokens_per_second: 1000, tokens_per_chunk: 4}]"))
            let grouped = await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 10, stream: true, prompt: "same"))
            #expect(single.events.count == 10 + 3)
            #expect(grouped.events.count == 3 + 3, "role, three content chunks (4, 4, 2 tokens), finish, [DONE]")
            #expect(content(grouped) == content(single) && content(single).split(separator: " ").count == 10)
            try await Task.sleep(for: .milliseconds(50))
            #expect(mock.ledger.entries().last?.chunks == 6)
        }
    }

    @Test func tokenChunksWrittenFromTheRenderedPrefixEqualTheirFrames() throws {
        var request = try ChatRequest.parse(Array(chatBody(maxTokens: 5, stream: true).utf8))
        for includeUsage in [false, true] {
            request.includeUsage = includeUsage
            let renderer = ChatCompletionRenderer(
                id: "chatcmpl-1", created: 1, model: "gpt-4.1", fingerprint: "fp_1", request: request,
                text: CompletionText(count: 5, seed: 1, model: "gpt-4.1", prompt: "say \"hi\"\n"))
            for index in 0..<renderer.count {
                var buffer = ByteBuffer()
                renderer.write(index, into: &buffer)
                #expect(String(buffer: buffer) == renderer.frame(index))
            }
        }
    }

    @Test func probabilityIsNearItsValueOverManyRequests() async throws {
        try await withMock(MockConfiguration(name: "blue", seed: 99)) { mock in
            try await mock.setFaults(faults("[{id: flaky, kind: status, status: 500, probability: 0.3}]"))
            let n = 600
            var failed = 0
            for _ in 0..<n where await client.get(mock.url + "/v1/models").status == 500 {
                failed += 1
            }
            // Binomial(600, 0.3): sd ≈ 11.2; ±5 sd can only fail if the generator is wrong.
            let expected = 0.3 * Double(n)
            let bound: Double = 5 * (expected * 0.7).squareRoot()
            let deviation = abs(Double(failed) - expected)
            #expect(deviation < bound, "failed \(failed) of \(n)")
        }
    }

    @Test func matchLimitsAFaultToSomeRequests() async throws {
        try await withMock { mock in
            try await mock.setFaults(
                faults(
                    """
                    - {id: deepseek-down, kind: status, status: 502, match: {model: deepseek-v3.2}}
                    - {id: models-slow, kind: status, status: 504, match: {path: /v1/models}}
                    """))
            #expect(await client.post(mock.url + "/v1/chat/completions", json: chatBody(model: "deepseek-v3.2")).status == 502)
            #expect(await client.post(mock.url + "/v1/chat/completions", json: chatBody(model: "gpt-4.1")).status == 200)
            #expect(await client.get(mock.url + "/v1/models").status == 504)

            try await mock.setFaults(faults("[{id: streams-only, kind: status, status: 500, match: {stream: true}}]"))
            #expect(await client.post(mock.url + "/v1/chat/completions", json: chatBody(stream: true)).status == 500)
            #expect(await client.post(mock.url + "/v1/chat/completions", json: chatBody(stream: false)).status == 200)
        }
    }

    @Test func sameSeedReplaysTheSameDecisionsAndAnotherSeedDiffers() async throws {
        func decisions(seed: UInt64) async throws -> [Int] {
            try await withMock(MockConfiguration(name: "blue", seed: seed)) { mock in
                try await mock.setFaults(faults("[{id: coin, kind: status, status: 500, probability: 0.5}]"))
                var statuses: [Int] = []
                for _ in 0..<64 { statuses.append(await client.get(mock.url + "/v1/models").status) }
                return statuses
            }
        }
        let first = try await decisions(seed: 1234)
        #expect(Set(first) == [200, 500])
        #expect(try await decisions(seed: 1234) == first)
        #expect(try await decisions(seed: 4321) != first)
    }

    @Test func decisionsDependOnlyOnSeedFaultAndDrawNumber() {
        let plan = FaultPlan(seed: 5, faults: [Fault(id: "a", kind: .status(code: 500, retryAfter: nil, headers: [], message: nil), probability: 0.5)])
        let first = (0..<200).map { _ in plan.decide(path: "/v1/models", stream: false, model: nil).ids }
        plan.clear(restartDraws: true)
        plan.replace(with: [Fault(id: "a", kind: .status(code: 500, retryAfter: nil, headers: [], message: nil), probability: 0.5)])
        let again = (0..<200).map { _ in plan.decide(path: "/v1/models", stream: false, model: nil).ids }
        #expect(first == again)
    }
}
