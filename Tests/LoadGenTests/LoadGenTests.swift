import ConfigInput
import CurlHTTP
import CutoverTestSupport
import Foundation
import HTTPServerCore
import Logging
import MockUpstream
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import Cutover

/// Answers every request with a 502 that no upstream stamped: what a broken router does.
final class UnstampedErrorResponder: HTTPResponder {
    func plan(for request: HTTPRequest, on eventLoop: any EventLoop) -> ResponsePlan {
        .respond(PlannedResponse(status: .badGateway, headers: HTTPHeaders([("content-type", "text/plain")]), body: .full(ByteBuffer(string: "bad gateway"))))
    }
    func finished(ticket: UInt64, _ end: ExchangeEnd) {}
}

func plan(_ url: String, rate: Double, seconds: Double, _ endpoint: Endpoint = .chat, maxTokens: Int = 8) -> LoadPlan {
    var plan = LoadPlan(url: url, model: .open(rate: rate), duration: .milliseconds(Int64(seconds * 1000)))
    plan.mix = [.init(endpoint: endpoint, weight: 1, maxTokens: maxTokens)]
    plan.requestTimeout = .seconds(5)
    // Generous: a busy CI machine must not turn a slow moment into not-sent slots in tests
    // that are not about lag (the starvation test sets its own, small bound).
    plan.maxLag = .seconds(10)
    return plan
}

/// The load generator against live mocks: outcome classes, one record per slot, rate,
/// coordinated omission, starvation, streams, ramps and the closed model.
@Suite("Load generator", .serialized, .timeLimit(.minutes(10)), .needsTheWholeMachine)
struct LoadGenTests {
    @Test func okAndUpstreamFaultAndTransportFromTheirCauses() async throws {
        try await withMock { mock in
            let ok = await LoadGenerator.run(plan(mock.url, rate: 50, seconds: 0.4))
            #expect(ok.summary.outcomes == [.ok: 20])
            #expect(ok.ledger.records.allSatisfy { $0.servedBy == .blue && $0.status == 200 && $0.upstreamStamped })

            try await mock.setFaults(faults("[{id: boom, kind: status, status: 500}]"))
            let fault = await LoadGenerator.run(plan(mock.url, rate: 50, seconds: 0.4))
            #expect(fault.summary.outcomes == [.upstreamFault: 20])
            #expect(fault.ledger.records.allSatisfy { fault.ledger.faultStamp($0) == "boom" && $0.status == 500 })

            try await mock.setFaults(faults("[{id: rst, kind: outage, mode: reset}]"))
            let reset = await LoadGenerator.run(plan(mock.url, rate: 50, seconds: 0.4))
            #expect(reset.summary.outcomes == [.transport: 20])
            #expect(reset.ledger.records.allSatisfy { [55, 56, 52].contains($0.curlCode) })
        }
    }

    @Test func aRefusedPortIsTransport() async throws {
        let result = await LoadGenerator.run(plan("http://127.0.0.1:1", rate: 50, seconds: 0.4))
        #expect(result.summary.outcomes == [.transport: 20])
        #expect(result.ledger.records.allSatisfy { $0.curlCode == 7 && $0.status == 0 })
    }

    @Test func anUnstampedNon2xxIsARouterError() async throws {
        let listener = HTTPListener(
            host: "127.0.0.1", group: MultiThreadedEventLoopGroup.singleton, responder: UnstampedErrorResponder(), logger: Logger(label: "test"))
        let port = try await listener.bind(port: 0)
        let result = await LoadGenerator.run(plan("http://127.0.0.1:\(port)", rate: 50, seconds: 0.4))
        await listener.shutdown()
        #expect(result.summary.outcomes == [.routerError: 20])
        #expect(result.ledger.records.allSatisfy { $0.status == 502 && !$0.upstreamStamped && $0.outcome.isDropped })
    }

    @Test func everyScheduledSlotHasExactlyOneRecord() async throws {
        try await withMock { mock in
            var p = plan(mock.url, rate: 300, seconds: 2)
            p.mix = [.init(endpoint: .chat, weight: 5), .init(endpoint: .models, weight: 3), .init(endpoint: .chatStream, weight: 2, maxTokens: 4)]
            p.threads = 2
            p.runID = "slots"
            let result = await LoadGenerator.run(p)
            #expect(result.ledger.records.map(\.seq) == Array(0..<600))
            #expect(result.valid)
            // The upstream executed each exactly once, under the generator's request ids.
            try await Task.sleep(for: .milliseconds(100))
            let ids = mock.ledger.entries().map(\.requestID)
            #expect(ids.count == 600 && Set(ids) == Set((0..<600).map { "slots-\($0)" }))
            let endpoints = Dictionary(grouping: result.ledger.records, by: \.endpoint).mapValues(\.count)
            #expect(endpoints[.chat]! > endpoints[.models]! && endpoints[.models]! > endpoints[.chatStream]!)
        }
    }

    @Test func aProxyNamedByTheEnvironmentIsNotUsed() async throws {
        // libcurl obeys http_proxy by default; load must go to the target it was given.
        setenv("http_proxy", "http://127.0.0.1:1", 1)
        setenv("HTTP_PROXY", "http://127.0.0.1:1", 1)
        defer {
            unsetenv("http_proxy")
            unsetenv("HTTP_PROXY")
        }
        try await withMock { mock in
            let result = await LoadGenerator.run(plan(mock.url, rate: 50, seconds: 0.4, .models))
            #expect(result.summary.outcomes == [.ok: 20])
        }
    }

    @Test func theOpenModelHoldsItsRateWithinOnePercent() async throws {
        try await withMock { mock in
            let result = await LoadGenerator.run(plan(mock.url, rate: 500, seconds: 4, .models))
            let sent = result.ledger.records.map(\.sentUs).sorted()
            #expect(sent.count == 2_000)
            let span = Double(sent.last! - sent.first!) / 1e6
            let achieved = Double(sent.count - 1) / span
            #expect(abs(achieved - 500) / 500 < 0.01, "achieved \(achieved) req/s")
            // On time, not to the millisecond: a fresh-clone run on this shared 2-core machine
            // once measured 5.1 ms against a 5 ms bound while the rate held to 1 %.
            #expect(result.summary.lag.valueAtPercentile(99) < 20_000)
            #expect(abs(result.summary.throughput - 500) / 500 < 0.05)
        }
    }

    @Test func aStallShowsUpInTheCorrectedLatencyOfRequestsScheduledDuringIt() async throws {
        try await withMock { mock in
            var p = plan(mock.url, rate: 50, seconds: 3, .models)
            p.maxInFlight = 1  // one connection, like a closed-loop benchmark client
            p.maxLag = .seconds(5)
            async let run = LoadGenerator.run(p)
            while mock.ledger.entries().count < 40 { try await Task.sleep(for: .milliseconds(5)) }
            try await mock.setFaults(faults("[{id: stall, kind: latency, distribution: {type: fixed, ms: 1000}}]"))
            while !mock.ledger.entries().contains(where: { $0.faults == ["stall"] }) { try await Task.sleep(for: .milliseconds(2)) }
            try await mock.clearFaults()
            let result = await run
            #expect(result.valid)
            let stalled = try #require(result.ledger.records.first { result.ledger.faultStamp($0) == "stall" })
            let stallEnd = stalled.doneUs
            let during = result.ledger.records.filter { $0.intendedUs > stalled.sentUs && $0.intendedUs < stallEnd }
            #expect(during.count >= 40, "\(during.count) slots fell in the stall")
            for record in during {
                // Corrected latency includes the wait behind the stall; the uncorrected one hides it.
                #expect(record.correctedLatencyUs + 20_000 >= stallEnd - record.intendedUs)
                #expect(record.latencyUs < 200_000)
            }
            #expect(result.summary.corrected.valueAtPercentile(90) > 400_000)
            #expect(result.summary.uncorrected.valueAtPercentile(90) < 100_000)
        }
    }

    @Test func aStarvedGeneratorRecordsNotSentAndTheRunIsInvalid() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: stuck, kind: outage, mode: hang}]"))
            var p = plan(mock.url, rate: 100, seconds: 2, .models)
            p.maxInFlight = 2
            p.maxLag = .milliseconds(200)
            p.requestTimeout = .seconds(1)
            let result = await LoadGenerator.run(p)
            #expect(!result.valid)
            let notSent = result.summary.outcomes[.notSent, default: 0]
            #expect(notSent > 100)
            #expect(result.ledger.records.count == 200)
            #expect(notSent + result.summary.outcomes[.transport, default: 0] == 200)
            #expect(result.ledger.records.filter { $0.outcome == .notSent }.allSatisfy { $0.sentUs == 0 && $0.status == 0 })
        }
    }

    /// The event-driven engine: thousands of transfers waiting on silent connections cost the
    /// loop nothing, so requests due meanwhile still leave on time. (`curl_multi_perform`
    /// visited every transfer on each pass: 250 ms of lag p99 at 4,000 in flight.)
    @Test func transfersInFlightDoNotDelayTheSchedule() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: stuck, kind: outage, mode: hang, match: {path: /v1/chat/completions}}]"))
            var p = plan(mock.url, rate: 1_000, seconds: 4)
            p.mix = [.init(endpoint: .chat, weight: 3), .init(endpoint: .models, weight: 1)]
            p.requestTimeout = .seconds(20)
            async let run = LoadGenerator.run(p)
            // Once the schedule is over, let the hung requests go (their connections close).
            try await Task.sleep(for: .milliseconds(4_300))
            try await mock.clearFaults()
            let result = await run
            let models = result.ledger.records.filter { $0.endpoint == .models }
            #expect(models.count > 800 && models.allSatisfy { $0.outcome == .ok })
            // About 3,000 hung requests were in flight by the end.
            #expect(result.ledger.records.filter { $0.endpoint == .chat }.count > 2_800)
            #expect(result.summary.lag.valueAtPercentile(99) < 20_000, "lag p99 \(result.summary.lag.valueAtPercentile(99)) us")
        }
    }

    /// The connect timeout is a setting: a target that never accepts fails each request with
    /// curl's timeout (28) after it, not after the request timeout.
    @Test func theConnectTimeoutIsASetting() async throws {
        // A listener that never accepts: once its backlog is full, connects hang.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 0) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(listening)
        var p = plan("http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))", rate: 20, seconds: 0.5, .models)
        p.requestTimeout = .seconds(3)
        p.connectTimeout = .milliseconds(300)
        let result = await LoadGenerator.run(p)
        // The first connections sit in the backlog and wait for an answer until the request
        // timeout; the rest cannot connect and stop at the connect timeout.
        #expect(result.ledger.records.allSatisfy { $0.curlCode == 28 && $0.outcome == .transport })
        let atConnectTimeout = result.ledger.records.filter { (250_000..<1_000_000).contains($0.doneUs - $0.sentUs) }
        #expect(atConnectTimeout.count >= 5, "\(result.ledger.records.map { $0.doneUs - $0.sentUs })")
    }

    /// LLM-shaped lengths: each request's `max_tokens` and prompt size are drawn from its
    /// mix entry's distributions, per slot and by seed, and reach the upstream as drawn.
    @Test func lengthsAreDrawnPerRequest() async throws {
        try await withMock { mock in
            var p = plan(mock.url, rate: 100, seconds: 1, .chatStream)
            p.mix = [.init(endpoint: .chatStream, weight: 1, tokens: .uniform(min: 2, max: 12), promptBytes: .uniform(min: 1_024, max: 65_536))]
            p.runID = "lengths"
            let result = await LoadGenerator.run(p)
            #expect(result.summary.outcomes == [.ok: 100])
            for record in result.ledger.records {
                #expect(Int(record.chunks) == p.maxTokens(forSlot: UInt64(record.seq)) + 3)
            }
            #expect(Set((0..<100).map { p.maxTokens(forSlot: $0) }).count >= 8)
            try await Task.sleep(for: .milliseconds(100))
            for entry in mock.ledger.entries() {
                let seq = try #require(UInt64(entry.requestID.dropFirst("lengths-".count)))
                let prompt = try #require(p.promptBytes(forSlot: seq))
                #expect(entry.requestBytes > prompt && entry.requestBytes < prompt + 200, "\(entry.requestBytes) bytes for a \(prompt)-byte prompt")
            }
        }
    }

    /// Client kinds reach the upstream as what they are: `Connection: close` and HTTP/1.0
    /// clients open a connection per request, kept-alive ones reuse theirs, and a slow
    /// reader takes a stream that arrives over time no faster than its rate.
    @Test func clientKindsTalkToTheTargetTheirOwnWay() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: pace, kind: stream-pace, ttft_ms: 10, tokens_per_second: 400}]"))
            var p = plan(mock.url, rate: 40, seconds: 2, .chat)
            p.mix = [
                .init(endpoint: .chat, weight: 1, tokens: .fixed(8), client: .keepAlive),
                .init(endpoint: .chat, weight: 1, tokens: .fixed(8), client: .close),
                .init(endpoint: .chatStream, weight: 1, tokens: .fixed(8), client: .http10),
                .init(endpoint: .chatStream, weight: 1, tokens: .fixed(60), client: .slowReader(bytesPerSecond: 8_000)),
            ]
            p.runID = "kinds"
            let result = await LoadGenerator.run(p)
            #expect(result.summary.outcomes == [.ok: 80], "\(result.summary.outcomes)")
            try await Task.sleep(for: .milliseconds(100))
            var byKind: [String: [LedgerEntry]] = [:]
            for entry in mock.ledger.entries() {
                let seq = try #require(UInt64(entry.requestID.dropFirst("kinds-".count)))
                byKind[p.mix[p.mixIndex(forSlot: seq)].client.description, default: []].append(entry)
            }
            let close = byKind["close"] ?? [], http10 = byKind["http1.0"] ?? [], kept = byKind["keep-alive"] ?? []
            #expect(!close.isEmpty && close.allSatisfy { $0.connectionIndex == 0 && $0.httpVersion == "HTTP/1.1" })
            #expect(!http10.isEmpty && http10.allSatisfy { $0.connectionIndex == 0 && $0.httpVersion == "HTTP/1.0" })
            #expect(kept.contains { $0.connectionIndex > 0 }, "kept-alive clients reuse their connections")
            // A 60-token stream is about 16 KB, paced over 150 ms: at 8,000 B/s it takes two seconds.
            let slow = result.ledger.records.filter { p.mix[p.mixIndex(forSlot: UInt64($0.seq))].client == .slowReader(bytesPerSecond: 8_000) }
            #expect(!slow.isEmpty)
            for record in slow {
                #expect(
                    Double(record.doneUs - record.sentUs) / 1e6 >= Double(record.bytes) / 8_000 * 0.7,
                    "\(record.bytes) bytes in \(record.doneUs - record.sentUs) µs")
            }
        }
    }

    /// A router without HTTP/2 gets a suite's `h2` clients as kept-alive HTTP/1.1, the same
    /// requests at the same slots; the schedule's digest says which, so a shard that did
    /// otherwise than its coordinator refuses to run.
    @Test func h2ClientsGoAsHTTP11ToARouterWithoutHTTP2() {
        var plan = LoadPlan(url: "http://127.0.0.1:1", model: .open(rate: 10), duration: .seconds(1))
        plan.mix = [.init(endpoint: .chat, weight: 1, tokens: .fixed(8), client: .http2), .init(endpoint: .chat, weight: 1, tokens: .fixed(8), client: .close)]
        var offered = plan
        #expect(offered.offerHTTP2(true) == 0 && offered.http2 && offered.mix == plan.mix)
        var refused = plan
        #expect(refused.offerHTTP2(false) == 1 && !refused.http2)
        #expect(refused.mix.map(\.client) == [.keepAlive, .close])
        #expect(refused.scheduleDigest != plan.scheduleDigest && offered.scheduleDigest == plan.scheduleDigest)
    }

    @Test func lengthDistributionsStayInTheirBoundsAndKeepTheirShape() {
        let draws = (0..<20_000).map { (SeededRandom.unit(seed: 1, stream: 1, index: $0), SeededRandom.unit(seed: 1, stream: 2, index: $0)) }
        let uniform = draws.map { LengthDistribution.uniform(min: 200, max: 2_000).sample($0.0, $0.1) }
        #expect(uniform.min()! >= 200 && uniform.max()! <= 2_000 && uniform.min()! < 220 && uniform.max()! > 1_980)
        let lognormal = draws.map { LengthDistribution.lognormal(median: 300, sigma: 0.8, min: 1, max: 4_000).sample($0.0, $0.1) }.sorted()
        #expect(abs(lognormal[lognormal.count / 2] - 300) < 15, "median \(lognormal[lognormal.count / 2])")
        #expect(lognormal.last! <= 4_000)
        let table = draws.map { LengthDistribution.table([.init(value: 100, weight: 3), .init(value: 1_000, weight: 1)]).sample($0.0, $0.1) }
        let share = Double(table.filter { $0 == 1_000 }.count) / Double(table.count)
        #expect(abs(share - 0.25) < 0.02)
        #expect(LengthDistribution.fixed(16).sample(0.5, 0.5) == 16)
    }

    /// Arrivals as the LLM benchmarks offer them: Poisson gaps vary as much as their mean
    /// (coefficient of variation 1), gamma gaps with burstiness 0.25 twice that, constant
    /// ones not at all; the mean rate is the plan's, and the seed replays the schedule.
    @Test func arrivalsKeepTheirRateAndTheirShape() {
        func gaps(_ arrival: Arrival, seed: UInt64 = 3) -> [Double] {
            let pacer = Pacer(rate: 1_000, rampTo: nil, duration: .seconds(20), arrivals: ArrivalTimes(count: 20_000, arrival: arrival, seed: seed))
            return (1..<20_000).map { pacer.dueSeconds($0) - pacer.dueSeconds($0 - 1) }
        }
        func stats(_ values: [Double]) -> (mean: Double, cv: Double) {
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
            return (mean, variance.squareRoot() / mean)
        }
        let poisson = stats(gaps(.poisson))
        #expect(abs(poisson.mean - 0.001) < 0.00003 && abs(poisson.cv - 1) < 0.05, "\(poisson)")
        let bursty = stats(gaps(.gamma(burstiness: 0.25)))
        #expect(abs(bursty.mean - 0.001) < 0.00006 && abs(bursty.cv - 2) < 0.15, "\(bursty)")
        let even = stats(gaps(.gamma(burstiness: 50)))
        #expect(abs(even.cv - (1 / 50.0).squareRoot()) < 0.02, "\(even)")
        #expect(stats(gaps(.constant)).cv < 1e-6)
        #expect(gaps(.poisson, seed: 9) == gaps(.poisson, seed: 9) && gaps(.poisson, seed: 9) != gaps(.poisson, seed: 10))
    }

    @Test func poissonArrivalsAreSentWhenDueOnAnyNumberOfThreads() async throws {
        try await withMock { mock in
            var p = plan(mock.url, rate: 400, seconds: 1.5, .models)
            p.arrival = .poisson
            p.seed = 4
            let one = await LoadGenerator.run(p)
            p.threads = 2
            let two = await LoadGenerator.run(p)
            #expect(one.valid && two.valid && one.ledger.records.count == 600 && two.ledger.records.count == 600)
            // The same schedule whatever the thread count, and each slot sent when it was due.
            #expect(one.ledger.records.map(\.intendedUs) == two.ledger.records.map(\.intendedUs))
            #expect(one.summary.lag.valueAtPercentile(99) < 20_000)
        }
    }

    @Test func streamsAreParsedAsTheyArriveAndTruncationIsTransport() async throws {
        try await withMock { mock in
            let whole = await LoadGenerator.run(plan(mock.url, rate: 40, seconds: 0.5, .chatStream, maxTokens: 5))
            #expect(whole.summary.outcomes == [.ok: 20])
            #expect(whole.ledger.records.allSatisfy { $0.sawDone && $0.chunks == 5 + 3 && $0.firstByteUs > 0 && $0.firstByteUs <= $0.doneUs })

            try await mock.setFaults(faults("[{id: cut, kind: stream-cut, after_chunks: 3}]"))
            let cut = await LoadGenerator.run(plan(mock.url, rate: 40, seconds: 0.5, .chatStream, maxTokens: 5))
            #expect(cut.summary.outcomes == [.transport: 20])
            #expect(cut.ledger.records.allSatisfy { !$0.sawDone && $0.chunks == 3 && $0.curlCode == 18 })

            try await mock.setFaults(faults("[{id: nodone, kind: stream-no-done}]"))
            let noDone = await LoadGenerator.run(plan(mock.url, rate: 40, seconds: 0.5, .chatStream, maxTokens: 5))
            #expect(noDone.summary.outcomes == [.upstreamFault: 20])
        }
    }

    @Test func aRampSchedulesTheRightNumberOfSlotsInEachSecond() async throws {
        try await withMock { mock in
            var p = plan(mock.url, rate: 100, seconds: 2, .models)
            p.model = .open(rate: 100, rampTo: 300)
            let result = await LoadGenerator.run(p)
            #expect(result.ledger.records.count == 400)
            let first = result.ledger.records.filter { $0.intendedUs < 1_000_000 }.count
            #expect(abs(first - 150) <= 1, "first second: \(first)")
            #expect(result.summary.outcomes[.ok] == 400)
        }
    }

    @Test func theClosedModelKeepsItsClientsBusy() async throws {
        try await withMock { mock in
            var p = LoadPlan(url: mock.url, model: .closed(connections: 4), duration: .milliseconds(800))
            p.mix = [.init(endpoint: .models, weight: 1)]
            p.threads = 2
            let result = await LoadGenerator.run(p)
            #expect(result.ledger.records.count > 100)
            #expect(result.summary.outcomes[.ok] == result.ledger.records.count)
            #expect(Set(result.ledger.records.map(\.seq)).count == result.ledger.records.count)
            #expect(result.ledger.records.allSatisfy { $0.lagUs < 50_000 })
        }
    }

    /// The closed model with think time: each client waits after an answer before asking
    /// again, and its n-th request is slot n·C + c.
    @Test func closedClientsThinkBetweenRequests() async throws {
        try await withMock { mock in
            var p = LoadPlan(url: mock.url, model: .closed(connections: 4), duration: .seconds(1))
            p.mix = [.init(endpoint: .models, weight: 1)]
            p.thinkTimeMs = .fixed(200)
            let result = await LoadGenerator.run(p)
            #expect((16...24).contains(result.ledger.records.count), "\(result.ledger.records.count) requests")
            for client in 0..<4 {
                let mine = result.ledger.records.filter { $0.seq % 4 == UInt32(client) }.sorted { $0.seq < $1.seq }
                #expect(mine.map(\.seq) == (0..<UInt32(mine.count)).map { $0 * 4 + UInt32(client) })
                for (earlier, later) in zip(mine, mine.dropFirst()) {
                    #expect(later.sentUs >= earlier.doneUs + 195_000, "a client asked again before its think time was over")
                    #expect(later.intendedUs == earlier.doneUs + 200_000)
                }
            }
        }
    }

    /// Multi-turn conversations: a session's next request carries the conversation so far, so
    /// its body grows turn by turn, on the same session key.
    @Test func conversationsGrowTurnByTurnOnOneSession() async throws {
        try await withMock { mock in
            var p = LoadPlan(url: mock.url, model: .closed(connections: 2), duration: .milliseconds(600))
            p.mix = [.init(endpoint: .chat, weight: 1, maxTokens: 8)]
            p.turns = 3
            p.sessions = 1_000
            p.runID = "turns"
            let result = await LoadGenerator.run(p)
            #expect(result.summary.outcomes[.ok] == result.ledger.records.count && result.ledger.records.count >= 6)
            try await Task.sleep(for: .milliseconds(100))
            let bytes = Dictionary(
                uniqueKeysWithValues: mock.ledger.entries().map { (UInt64($0.requestID.dropFirst("turns-".count))!, ($0.requestBytes, $0.sessionID)) })
            for seq in bytes.keys.sorted() where p.turn(ofSlot: seq) > 0 {
                let previous = try #require(bytes[seq - 2], "turn \(p.turn(ofSlot: seq)) of slot \(seq) without its earlier turn")
                #expect(bytes[seq]!.0 > previous.0 + 40, "slot \(seq) carries no more than slot \(seq - 2)")
                #expect(bytes[seq]!.1 == previous.1, "a conversation changed its session key")
            }
            #expect(p.earlierTurns(ofSlot: 10) == [6, 8] && p.turn(ofSlot: 10) == 2 && p.turn(ofSlot: 12) == 0)
            #expect(p.choice(forSlot: 0).session != p.choice(forSlot: 6).session, "a new conversation gets a new key")
        }
    }

    /// Client cancellation: a set share of streams is abandoned at a set delay; the record
    /// says `cancelled` (neither ok nor dropped), and the upstream sees the client go.
    @Test func abandonedStreamsAreCancelledAndTheUpstreamSeesItsClientGo() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: pace, kind: stream-pace, ttft_ms: 50, tokens_per_second: 20}]"))
            var p = plan(mock.url, rate: 40, seconds: 1, .chatStream, maxTokens: 30)
            p.cancellation = .init(share: 0.5, afterMs: .fixed(300))
            p.runID = "cancels"
            let result = await LoadGenerator.run(p)
            let cancelled = result.ledger.records.filter { $0.outcome == .cancelled }
            #expect(cancelled.count == (0..<40).filter { p.cancelAfterUs(forSlot: $0) != nil }.count && (10...30).contains(cancelled.count))
            #expect(result.summary.outcomes[.ok, default: 0] + cancelled.count == 40)
            #expect(cancelled.allSatisfy { (295_000..<600_000).contains($0.doneUs - $0.sentUs) && !$0.sawDone })
            try await Task.sleep(for: .milliseconds(200))
            let entries = Dictionary(uniqueKeysWithValues: mock.ledger.entries().map { ($0.requestID, $0) })
            for record in cancelled {
                #expect(entries["cancels-\(record.seq)"]?.outcome == .clientGone)
            }
        }
    }

    @Test func streamEventsAreReadForTheirWordsAndUsage() {
        func read(_ text: String) -> StreamEventReading { StreamEventReading(ArraySlice(Array(text.utf8))) }
        #expect(read(#"data: {"choices":[{"delta":{"content":" canary"},"finish_reason":null}]}"#).words == 1)
        #expect(read(#"data: {"choices":[{"delta":{"content":"blue green  router"}}]}"#).words == 3)
        #expect(read(#"data: {"choices":[{"delta":{"content":"say \"hi\"\nnow"}}]}"#).words == 3)
        #expect(read(#"data: {"choices":[{"delta":{"role":"assistant","content":"","refusal":null}}]}"#).words == 0)
        let usage = read(#"data: {"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":37,"total_tokens":41}}"#)
        #expect(usage.words == 0 && usage.completionTokens == 37)
    }

    /// What LLM load tools report, from the records: TTFT apart from the headers, ITL with the
    /// first token left out, chunk gaps that grow with grouped tokens while ITL does not, and
    /// the usage chunk checked against the tokens received.
    @Test func streamsReportTheirFirstTokenInterTokenLatencyAndUsage() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: pace, kind: stream-pace, ttft_ms: 150, tokens_per_second: 50, tokens_per_chunk: 4}]"))
            let result = await LoadGenerator.run(plan(mock.url, rate: 20, seconds: 0.5, .chatStream, maxTokens: 20))
            #expect(result.summary.outcomes == [.ok: 10])
            for record in result.ledger.records {
                #expect(record.tokens == 20 && record.usageTokens == 20 && record.contentEvents == 5)
                #expect(record.headersUs.map { $0 < 100_000 } == true, "headers come before the first token")
                #expect(record.firstTokenLatencyUs.map { $0 >= 140_000 && $0 < 400_000 } == true, "\(String(describing: record.firstTokenLatencyUs))")
                // 4 tokens every 80 ms: 20 ms a token, 80 ms between content events.
                #expect(record.interTokenUs.map { $0 > 15_000 && $0 < 30_000 } == true, "\(String(describing: record.interTokenUs))")
                #expect(record.chunkGapUs.map { $0 > 70_000 && $0 < 110_000 } == true, "\(String(describing: record.chunkGapUs))")
            }
            let metrics = try #require(result.summary.streams)
            #expect(metrics.overall.streams == 10 && metrics.overall.usageChecked == 10 && metrics.overall.usageMismatches == 0)
            #expect(metrics.overall.goodput == 1)
            let strict = StreamMetrics(records: result.ledger.records, phases: [], slo: .init(firstTokenMs: 100))
            #expect(strict.overall.good == 0 && strict.overall.goodput == 0, "a 150 ms first token misses a 100 ms target")
        }
    }

    /// 60 bytes of timings, counts and codes, and the two digests that match an exchange's
    /// ends: a million requests in 80 MB.
    @Test func aLedgerRecordIsEightyBytes() {
        #expect(MemoryLayout<LedgerRecord>.stride == 80)
    }

    @Test func outcomesAreClassifiedAsTheSpecSays() {
        func record(status: UInt16, curl: UInt8 = 0, stamped: Bool = true, done: Bool = false) -> LedgerRecord {
            var r = LedgerRecord.notSent(seq: 0, session: 0, intendedUs: 0, endpoint: .chat)
            r.status = status
            r.curlCode = curl
            r.flags = (stamped ? LedgerRecord.stampedFlag : 0) | (done ? LedgerRecord.doneFlag : 0)
            return r
        }
        #expect(LoadEngine.classify(record(status: 200), stream: false, faultStamped: false) == .ok)
        #expect(LoadEngine.classify(record(status: 200, done: true), stream: true, faultStamped: false) == .ok)
        #expect(LoadEngine.classify(record(status: 200), stream: true, faultStamped: false) == .transport)
        #expect(LoadEngine.classify(record(status: 200), stream: true, faultStamped: true) == .upstreamFault)
        #expect(LoadEngine.classify(record(status: 503), stream: false, faultStamped: true) == .upstreamFault)
        #expect(LoadEngine.classify(record(status: 502, stamped: false), stream: false, faultStamped: false) == .routerError)
        #expect(LoadEngine.classify(record(status: 200, curl: 18), stream: false, faultStamped: false) == .transport)
        #expect(LoadEngine.classify(record(status: 0, curl: 7, stamped: false), stream: false, faultStamped: false) == .transport)
        #expect(Outcome.allCases.filter(\.isDropped) == [.routerError, .transport])
    }

    @Test func sessionsComeFromThePoolAndTheSeedFixesTheChoices() {
        var p = LoadPlan(url: "http://127.0.0.1:1", model: .open(rate: 1), duration: .seconds(1))
        p.sessions = 7
        p.mix = [.init(endpoint: .chat, weight: 1), .init(endpoint: .models, weight: 1)]
        p.seed = 3
        let a = (0..<500).map { p.choice(forSlot: $0) }
        #expect(Set(a.map(\.session)).isSubset(of: Set(0..<7)))
        #expect(a == (0..<500).map { p.choice(forSlot: $0) })
        p.seed = 4
        #expect(a != (0..<500).map { p.choice(forSlot: $0) })
    }
}
