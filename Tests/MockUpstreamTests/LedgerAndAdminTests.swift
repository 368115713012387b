import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore
import Testing

@testable import MockUpstream

/// The server-side ledger and the admin API, including its answers to bad input.
@Suite("Ledger and admin API")
struct LedgerAndAdminTests {
    let client = CurlClient()

    @Test func ledgerRecordsEveryRequestWithItsFaultAndEnding() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: teapot, kind: status, status: 418, match: {model: deepseek-v3.2}}]"))
            _ = await client.get(mock.url + "/v1/models", headers: [("X-Request-ID", "run-1"), ("X-Session-ID", "s-9")])
            _ = await client.post(mock.url + "/v1/chat/completions", json: chatBody(model: "deepseek-v3.2"), headers: [("X-Request-ID", "run-2")])
            _ = await client.post(mock.url + "/v1/chat/completions", json: chatBody(stream: true), headers: [("X-Request-ID", "run-3")])
            // The client can read the last byte before the mock's write completion records it.
            try await waitFor { mock.ledger.entries().allSatisfy { $0.outcome != .inFlight } }
            let entries = mock.ledger.entries()
            #expect(entries.map(\.requestID) == ["run-1", "run-2", "run-3"])
            #expect(entries.map(\.seq) == [1, 2, 3])
            #expect(entries[0].sessionID == "s-9")
            #expect(entries[0].path == "/v1/models")
            #expect(entries[1].faults == ["teapot"] && entries[1].status == 418)
            #expect(entries[2].stream && entries[2].faults.isEmpty && entries[2].chunks == 8 + 3)
            #expect(entries.allSatisfy { $0.outcome == .completed && $0.finishMs! >= $0.arrivalMs })

            let page = try object(await admin(mock, "GET", "/_mock/ledger?since=1"))
            let listed = try #require(page["entries"] as? [[String: Any]])
            #expect(listed.map { $0["request_id"] as? String } == ["run-2", "run-3"])
            #expect(listed[0]["fault"] as? String == "teapot")
            #expect(listed[1]["outcome"] as? String == "completed")
            #expect(page["next_since"] as? Int == 3)
        }
    }

    @Test func clientGoingAwayMidStreamIsRecorded() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: slow, kind: stream-pace, ttft_ms: 0, tokens_per_second: 10}]"))
            let response = await client.send(.json(url: mock.url + "/v1/chat/completions", chatBody(maxTokens: 50, stream: true), timeoutMs: 300))
            #expect(response.error?.errorClass == .timeout)
            try await waitFor { mock.ledger.entries().last?.outcome == .clientGone }
        }
    }

    @Test(arguments: [3, 5, 4096])
    func ledgerIsBoundedAndCountsWhatItDropped(capacity: Int) {
        let ledger = MockLedger(capacity: capacity)
        let total = 3 * capacity + 2
        for i in 1...total {
            let seq = ledger.begin(
                LedgerEntry(
                    seq: 0, requestID: "r\(i)", sessionID: nil, method: "GET", path: "/v1/models", model: nil, stream: false, arrivalMs: 0, finishMs: nil,
                    faults: [], status: nil, outcome: .inFlight, bytes: 0, chunks: 0))
            ledger.finish(seq, ExchangeEnd(status: 200, outcome: .completed, bytes: i))
        }
        let kept = ledger.entries()
        #expect(kept.count <= capacity)
        #expect(!kept.isEmpty)
        #expect(Int(ledger.dropped) + kept.count == total)
        // What is kept is the newest, contiguous, and finished in place.
        #expect(kept.map(\.seq) == Array(UInt64(total - kept.count + 1)...UInt64(total)))
        #expect(kept.allSatisfy { $0.outcome == .completed && $0.bytes == Int($0.seq) })
        #expect(ledger.entries(since: UInt64(total - 1)).map(\.requestID) == ["r\(total)"])
        #expect(ledger.entries(since: 0, limit: 1).first?.seq == kept.first?.seq)
    }

    @Test func faultsCanBeReadAddedReplacedDeletedAndReset() async throws {
        try await withMock { mock in
            let added = await admin(mock, "POST", "/_mock/faults", #"{"id":"slow","kind":"latency","distribution":{"type":"fixed","ms":1}}"#)
            #expect(added.status == 201)
            let duplicate = await admin(mock, "POST", "/_mock/faults", #"{"id":"slow","kind":"stream-no-done"}"#)
            #expect(duplicate.status == 409)
            let second = await admin(mock, "POST", "/_mock/faults", #"{"kind":"status","status":500,"probability":0.25}"#)
            #expect(second.status == 201)
            let listed = try #require(try object(await admin(mock, "GET", "/_mock/faults"))["faults"] as? [[String: Any]])
            #expect(listed.map { $0["id"] as? String } == ["slow", "fault-2"])
            #expect(listed[1]["probability"] as? Double == 0.25)

            #expect(await admin(mock, "DELETE", "/_mock/faults/slow").status == 200)
            #expect(await admin(mock, "DELETE", "/_mock/faults/slow").status == 404)
            #expect(mock.faults.faults.map(\.id) == ["fault-2"])

            let replaced = await admin(
                mock, "PUT", "/_mock/faults", #"{"faults":[{"id":"a","kind":"stream-cut","after_chunks":1},{"id":"b","kind":"body","mode":"empty"}]}"#)
            #expect(replaced.status == 200)
            #expect(mock.faults.faults.map(\.id) == ["a", "b"])
            #expect(await admin(mock, "DELETE", "/_mock/faults").status == 200)
            #expect(mock.faults.faults.isEmpty)

            _ = await client.get(mock.url + "/v1/models")
            try await mock.addFaults(faults("[{id: x, kind: outage, mode: refuse}]"))
            #expect(await admin(mock, "POST", "/_mock/reset").status == 200)
            #expect(mock.faults.faults.isEmpty)
            #expect(mock.ledger.entries().isEmpty)
            #expect(await client.get(mock.url + "/v1/models").status == 200)
        }
    }

    @Test func faultsRoundTripThroughTheirJSONForm() throws {
        let list = try faults(
            """
            - {id: a, kind: latency, probability: 0.5, match: {path: /v1/models, stream: false, model: m}, distribution: {type: lognormal, median_ms: 20, sigma: 0.4}}
            - {id: b, kind: stream-pace, ttft_ms: 100, tokens_per_second: 30, jitter_ms: 5}
            - {id: c, kind: status, status: 429, retry_after: 3, headers: {x-a: b}, message: slow down}
            - {id: d, kind: outage, mode: hang}
            - {id: e, kind: body, mode: garbage}
            - {id: f, kind: stream-stall, after_chunks: 2, stall_ms: 50}
            - {id: g, kind: stream-error, after_chunks: 1}
            - {id: h, kind: stream-no-done}
            - {id: i, kind: idle-close, probability: 0.25, idle_ms: {type: uniform, min_ms: 5, max_ms: 80}}
            - {id: j, kind: slicer, size_bytes: 7, delay_ms: 3}
            - {id: k, kind: limit-data, bytes: 120, match: {stream: true}}
            - {id: l, kind: bandwidth, bytes_per_second: 5000}
            """)
        let json = JSON.array(list.map(\.json)).text
        let again = try Fault.parseList(ConfigNode.parseJSON(Array(json.utf8), source: "round trip"))
        #expect(again == list)
    }

    @Test(arguments: [
        (#"{"kind":"latency"}"#, "kind 'latency' needs 'distribution'", ""),
        (#"{"kind":"latency","distribution":{"type":"gaussian"}}"#, "expected one of fixed|uniform|normal|lognormal|pareto", "distribution.type"),
        (#"{"kind":"status","status":200}"#, "expected an integer in 400...599", "status"),
        (#"{"kind":"status","status":500,"probability":1.5}"#, "expected a number in 0.0...1.0", "probability"),
        (#"{"kind":"outage","mode":"explode"}"#, "expected one of refuse|reset|hang", "mode"),
        (#"{"kind":"outage","mode":"refuse","probability":0.5}"#, "'probability' and 'match' do not apply", ""),
        (#"{"kind":"stream-cut","after_chunks":"three"}"#, "expected an integer", "after_chunks"),
        (#"{"kind":"body","mode":"empty","colour":"red"}"#, "unknown key 'colour'", "colour"),
        (#"{"kind":"telepathy"}"#, "expected one of bandwidth|body|idle-close|latency", "kind"),
        (#"{"kind":"status","status":429,"retry_after":"soon"}"#, "expected seconds or an HTTP date", "retry_after"),
        (#"{"kind":"body","mode":"empty","match":{"colour":"red"}}"#, "unknown key 'colour'", "match.colour"),
        (#"{"kind":"body""#, "not valid JSON", ""),
        (#"{"kind":"idle-close","idle_ms":40}"#, "expected a mapping with 'type'", "idle_ms"),
        (#"{"kind":"slicer","size_bytes":0,"delay_ms":5}"#, "expected an integer in 1...1048576", "size_bytes"),
        (#"{"kind":"slicer","size_bytes":10}"#, "kind 'slicer' needs 'delay_ms'", ""),
        (#"{"kind":"limit-data","bytes":-1}"#, "expected an integer in 0...1073741824", "bytes"),
        (#"{"kind":"bandwidth","bytes_per_second":"fast"}"#, "expected an integer", "bytes_per_second"),
        (#"[1]"#, "expected a fault mapping", "[0]"),
    ])
    func badFaultBodiesAre400NamingTheField(body: String, message: String, field: String) async throws {
        try await withMock { mock in
            let response = await admin(mock, "POST", "/_mock/faults", body)
            #expect(response.status == 400)
            let error = errorInfo(response)
            let text = try #require(error["message"] as? String)
            #expect(text.contains(message), "\(text)")
            #expect((error["field"] as? String ?? "") == field, "\(text)")
            #expect(mock.faults.faults.isEmpty)
        }
    }

    @Test func badAdminRequestsGetJSONErrors() async throws {
        try await withMock { mock in
            #expect(await admin(mock, "GET", "/_mock/ledger?since=abc").status == 400)
            #expect(await admin(mock, "GET", "/_mock/ledger?limit=0").status == 400)
            #expect(await admin(mock, "PATCH", "/_mock/faults", "{}").status == 405)
            let unknown = await admin(mock, "GET", "/_mock/nothing")
            #expect(unknown.status == 404)
            #expect(errorInfo(unknown)["message"] is String)
            #expect(await admin(mock, "PUT", "/_mock/faults", #"{"kind":"body","mode":"empty"}"#).status == 400)
        }
    }

    @Test func configFileErrorsNameFileLineAndField() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-mock-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
        name: green
        seed: 3
        faults:
          - id: slow
            kind: latency
            distribution: {type: fixed, millis: 5}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            try MockConfiguration.load(file: path)
        } throws: { error in
            let error = error as? ConfigError
            return error?.source == path && error?.line == 6 && error?.field == "faults[0].distribution.millis"
                && error?.message.contains("unknown key") == true
        }

        try "name: green\nport: 99999\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try MockConfiguration.load(file: path) }

        try """
        name: green
        seed: 3
        models: [m1]
        faults:
          - {id: slow, kind: latency, distribution: {type: fixed, ms: 5}}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let config = try MockConfiguration.load(file: path)
        #expect(config.name == "green" && config.seed == 3 && config.models == ["m1"] && config.faults.map(\.id) == ["slow"])
    }

    @Test func initialRefuseFaultStartsWithTheListenerClosed() async throws {
        let config = MockConfiguration(name: "green", faults: try faults("[{id: down, kind: outage, mode: refuse}]"))
        try await withMock(config) { mock in
            #expect(mock.port != 0)
            #expect(await client.get(mock.url + "/v1/models", timeoutMs: 2_000).error?.errorClass == .refused)
            try await mock.removeFault(id: "down")
            #expect(await CurlClient().get(mock.url + "/v1/models").status == 200)
        }
    }
}
