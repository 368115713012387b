import Cutover
import ConfigInput
import CurlHTTP
import HTTPServerCore
import CutoverTestSupport
import Foundation
import Testing

/// `cutover load`: the JSON it prints and its answers to bad flags.
@Suite("cutover load CLI", .serialized, .timeLimit(.minutes(1)))
struct LoadCLITests {
    @Test func jsonHasTheSpecKeysAndTheLedgerOneLinePerSlot() async throws {
        try await withMock { mock in
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-ledger-\(UUID().uuidString).jsonl").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            let (status, out, err) = try Executable.run(
                "cutover", ["load", "--url", mock.url, "--rate", "100", "--duration", "1s", "--stream", "--sessions", "50", "--json", "--ledger", path])
            #expect(status == 0, "\(err)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
            #expect(object["requests"] as? Int == 100)
            #expect(object["valid"] as? Bool == true)
            #expect(object["duration_s"] is Double && object["throughput_rps"] is Double)
            // SPEC §3's keys, and `cancelled` (abandoned on purpose) beside them.
            #expect((object["outcomes"] as? [String: Int]) == ["ok": 100, "upstream-fault": 0, "router-error": 0, "transport": 0, "not-sent": 0, "cancelled": 0])
            #expect((object["by_env"] as? [String: Int]) == ["blue": 100, "green": 0, "unknown": 0])
            let latency = try #require(object["latency_ms"] as? [String: Double])
            #expect(Set(latency.keys) == ["p50", "p90", "p99", "p999", "max"])
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 100)
            let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
            #expect(first["outcome"] as? String == "ok" && first["done"] as? Bool == true && first["env"] as? String == "blue")
            #expect((first["session"] as? String)?.hasPrefix("s") == true)
        }
    }

    @Test func aStarvedRunExitsThree() async throws {
        try await withMock { mock in
            try await mock.setFaults(faults("[{id: stuck, kind: outage, mode: hang}]"))
            let (status, out, _) = try Executable.run(
                "cutover", ["load", "--url", mock.url, "--rate", "100", "--duration", "2s", "--max-in-flight", "1", "--timeout", "1500ms"])
            #expect(status == 3)
            #expect(out.contains("Run valid     NO"), "\(out)")
        }
    }

    @Test(arguments: [
        (["load", "--url", "http://127.0.0.1:1", "--duration", "1s"], "--rate"),
        (["load", "--url", "http://127.0.0.1:1", "--rate", "10", "--connections", "2", "--duration", "1s"], "exclude"),
        (["load", "--url", "http://127.0.0.1:1", "--rate", "-5", "--duration", "1s"], "--rate"),
        (["load", "--url", "http://127.0.0.1:1", "--rate", "10", "--duration", "forever"], "--duration"),
        (["load", "--url", "127.0.0.1:1", "--rate", "10", "--duration", "1s"], "--url"),
        (["load", "--url", "http://127.0.0.1:99999", "--rate", "10", "--duration", "1s"], "--url"),
        (["load", "--url", "http://127.0.0.1:1", "--rate", "10", "--duration", "1s", "--mix", "chat:1,embeddings:2"], "--mix"),
        (["load", "--url", "http://127.0.0.1:1", "--connections", "0", "--duration", "1s"], "--connections"),
    ])
    func badFlagsExitTwo(arguments: [String], mention: String) throws {
        let (status, _, err) = try Executable.run("cutover", arguments)
        #expect(status == 2, "\(err)")
        #expect(err.contains(mention), "\(err)")
    }
}
