import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore
import Testing

@testable import MockUpstream

/// What the mock's ledger says of each exchange, and that the client's reading of the
/// answer digests to the same value: the two ends of one exchange, compared without
/// keeping either body.
@Suite("Exchange evidence", .sharesTheMachine)
struct ExchangeEvidenceTests {
    let client = CurlClient()

    /// The request side: the identity the body names, the messages' digest, the length and
    /// stream options as asked.
    @Test func theLedgerRecordsWhatTheRequestSaid() async throws {
        try await withMock { mock in
            let prompt = "(request run-7-42) Hello from cutover"
            _ = await client.post(
                mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 5, stream: true, includeUsage: true, prompt: prompt),
                headers: [("X-Request-ID", "someone-else")])
            _ = await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: nil, prompt: "no identity here"))
            try await waitFor { mock.ledger.entries().count == 2 && mock.ledger.entries().allSatisfy { $0.outcome != .inFlight } }
            let entries = mock.ledger.entries()
            #expect(entries[0].bodyRequestID == "run-7-42" && entries[0].requestID == "someone-else")
            #expect(entries[0].messagesDigest == ExchangeFingerprint.messages([(role: "user", text: prompt)]))
            #expect(entries[0].maxTokens == 5 && entries[0].includeUsage && entries[0].stream)
            #expect(entries[1].bodyRequestID == nil && entries[1].maxTokens == nil && !entries[1].includeUsage)
            #expect(RequestIdentity.find(in: "a (request x-1) then (request y-2) text") == "y-2")
            #expect(RequestIdentity.find(in: "(request unterminated") == nil)
        }
    }

    /// The answer side: the bytes the mock wrote digest to what the client read, and what
    /// they say (read as a re-encoding gateway's client reads them) to the content digest,
    /// for a completion, a stream, a model list and an error.
    @Test func theClientsDigestsOfTheAnswerAreTheMocks() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: teapot, kind: status, status: 429, match: {model: deepseek-v3.2}}]"))
            let chat = await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 7, prompt: "(request r-1) hi"))
            let stream = await client.post(
                mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 9, stream: true, includeUsage: true, prompt: "(request r-2) hi"))
            let bare = await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 9, stream: true, prompt: "(request r-3) hi"))
            let models = await client.get(mock.url + "/v1/models")
            let limited = await client.post(mock.url + "/v1/chat/completions", json: chatBody(model: "deepseek-v3.2", prompt: "(request r-4) hi"))
            try await waitFor { mock.ledger.entries().count == 5 && mock.ledger.entries().allSatisfy { $0.outcome != .inFlight } }
            let entries = mock.ledger.entries()
            for (response, entry) in zip([chat, stream, bare, models, limited], entries) {
                var bytes = Digest64()
                bytes.add(response.body)
                #expect(entry.bodyDigest == bytes.value, "\(entry.path) \(entry.requestID)")
                let isStream = entry.stream && response.status == 200
                var reading = SemanticAnswer()
                for event in response.events where !event.isDone { reading.event(Array(event.data.utf8)[...]) }
                let content = isStream ? reading.streamDigest : SemanticAnswer.digest(ofBody: response.body)
                #expect(entry.contentDigest == content, "\(entry.path) \(entry.requestID): \(response.text.prefix(200))")
            }
            #expect(limited.status == 429)
            // Another answer digests otherwise: a swapped answer cannot pass for this one.
            #expect(Set(entries.map(\.bodyDigest)).count == 5 && Set(entries.compactMap(\.contentDigest)).count == 5)
        }
    }

    /// An outage that closes the port cuts the exchanges in flight, and the ledger says
    /// which fault did it: what the router then reports is the upstream's doing.
    @Test func anOutageStampsTheExchangesItCutInFlight() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: slow, kind: latency, distribution: {type: fixed, ms: 2000}}]"))
            async let slow = client.post(mock.url + "/v1/chat/completions", json: chatBody(prompt: "(request r-9) hi"))
            try await waitFor { mock.ledger.entries().count == 1 }
            try await mock.addFaults(faults("[{id: down, kind: outage, mode: refuse}]"))
            let response = await slow
            #expect(response.status == 0 && response.error != nil)
            try await waitFor { mock.ledger.entries().first?.outcome == .reset }
            let entry = try #require(mock.ledger.entries().first)
            #expect(entry.interruptedBy == "down" && entry.faults == ["slow"])
            let listed = try object(await admin(mock, "GET", "/_mock/ledger"))
            #expect(((listed["entries"] as? [[String: Any]])?.first?["interrupted_by"] as? String) == "down")
        }
    }
}

/// Whether an idle mock kept up depends on the machine being quiet, so it is judged alone.
@Suite("A mock keeping up", .needsTheWholeMachine)
struct MockKeepingUpTests {
    /// The mock's own evidence that it kept up: its loops' lag and failed accepts, in its
    /// stats, and beyond the bound a reason that names the mock and the figure.
    @Test func aMockThatFellBehindSaysSo() async throws {
        try await withMock { mock in
            try await waitFor { (try? object(await admin(mock, "GET", "/_mock/stats")))?["loop_lag"] != nil }
            let stats = try object(await admin(mock, "GET", "/_mock/stats"))
            let lag = try #require(stats["loop_lag"] as? [String: Any])
            #expect((lag["ticks"] as? Int).map { $0 >= 0 } == true && stats["accept_failures"] as? Int == 0)
            #expect(mock.keepingUp.problem == nil)
        }
        let behind = MockKeepingUp(name: "green", loopLagP99Ms: 100, loopLagMaxMs: 412, pacingLateP99Ms: 2, acceptFailures: 3, lastAcceptFailure: "EMFILE")
        #expect(
            behind.problem
                == "the green mock fell behind: its event loops ran up to 100.0 ms late (p99; max 412.0 ms); it failed to accept 3 connections (EMFILE); bound 50.0 ms"
        )
    }
}
