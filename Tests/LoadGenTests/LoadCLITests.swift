import ConfigInput
import CurlHTTP
import Cutover
import CutoverTestSupport
import Foundation
import HTTPServerCore
import Testing

/// `cutover load`: the JSON it prints and its answers to bad flags.
@Suite("cutover load CLI", .serialized, .timeLimit(.minutes(10)), .sharesTheMachine)
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
            #expect(
                (object["outcomes"] as? [String: Int]) == ["ok": 100, "upstream-fault": 0, "router-error": 0, "transport": 0, "not-sent": 0, "cancelled": 0])
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

    /// A generator that runs out of descriptors never blames the target: the requests it
    /// could not open a socket for are not-sent (the run invalid, exit 3, saying why), not
    /// transport failures. The hard limit is lowered in a shell around it, so the harness
    /// cannot raise its soft limit past it.
    @Test func runningOutOfDescriptorsIsTheHarnessesNotTheTargets() async throws {
        try await withMock { mock in
            // The descriptors this busy test process leaves open are closed first, so that the
            // generator starts with the limit to itself.
            let (status, out, err) = try await Executable.runOnItsOwnThread(
                URL(fileURLWithPath: "/bin/bash"),
                [
                    "-c",
                    "for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ \"$fd\" -gt 2 ] && eval \"exec $fd>&-\"; done 2>/dev/null; "
                        + "ulimit -Sn 48 && ulimit -Hn 48 && exec \"$0\" load --url \"$1\" --connections 100 --duration 1s --json",
                    Executable.url("cutover").path, mock.url,
                ])
            #expect(status == 3, "\(err)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
            let outcomes = try #require(object["outcomes"] as? [String: Int])
            let notSent = try #require(object["not_sent"] as? [String: Int])
            #expect(object["valid"] as? Bool == false && outcomes["transport"] == 0 && (outcomes["not-sent"] ?? 0) > 0, "\(outcomes)")
            #expect(notSent["no_descriptors"] == outcomes["not-sent"] && (outcomes["ok"] ?? 0) > 0, "\(notSent)")
        }
    }

    /// With no descriptor left even for its poll, the generator sends nothing and says so:
    /// every slot is not-sent for want of descriptors, at once (it does not wait out the
    /// duration), and the run is invalid (exit 3), never a crash. With one left for a single
    /// socket, one request goes and the rest are not-sent the same way.
    @Test func aGeneratorWithNoDescriptorForItsPollSendsNothingAndSaysSo() async throws {
        try await withMock { mock in
            // All but five descriptors of a 64 limit are held open when the generator starts.
            // libdispatch opens three or four of its own as the process starts (its manager's
            // epoll and eventfd, the main queue's handle, a timer) and traps without them
            // (seen in a core dump: _dispatch_runloop_queue_handle_init); what it leaves is
            // too few for the generator's multi handle (a socket pair) and its poll.
            let (status, out, err) = try await Executable.runOnItsOwnThread(
                URL(fileURLWithPath: "/bin/bash"),
                [
                    "-c",
                    "for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ \"$fd\" -gt 2 ] && eval \"exec $fd>&-\"; done 2>/dev/null; "
                        + "ulimit -Sn 64 && ulimit -Hn 64 && for ((fd=3; fd<=58; fd++)); do eval \"exec $fd</dev/null\"; done; "
                        + "exec \"$0\" load --url \"$1\" --rate 50 --duration 1s --json",
                    Executable.url("cutover").path, mock.url,
                ])
            #expect(status == 3, "\(err)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
            let outcomes = try #require(object["outcomes"] as? [String: Int])
            let notSent = try #require(object["not_sent"] as? [String: Int])
            // libdispatch takes two to four descriptors as the process starts (it varies from run
            // to run): when it leaves one for a socket beside the poll, one request goes, on that
            // one connection, and every other slot is not-sent for want of a descriptor.
            let sent = 50 - (outcomes["not-sent"] ?? 0)
            #expect(object["requests"] as? Int == 50 && sent <= 1 && notSent["no_descriptors"] == outcomes["not-sent"], "\(out)")
            if sent == 0 { #expect((object["duration_s"] as? Double ?? 1) < 0.5, "the generator waited out the run: \(out)") }
        }
    }

    /// Two shards started together through the CLI, then merged: the one schedule a
    /// single generator carries, and a missing part refused by name.
    @Test func twoShardsMergeIntoOneRun() async throws {
        try await withMock { mock in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-shards-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let startAt = String(Date().timeIntervalSince1970 + 1.5)
            // Both shards run at once, as on two machines, and wait for the same start.
            let shards = try (0..<2).map { k in
                let process = Process()
                process.executableURL = Executable.url("cutover")
                process.arguments = [
                    "load", "--url", mock.url, "--rate", "200", "--duration", "1s", "--seed", "4", "--threads", "1", "--shard", "\(k)/2", "--start-at", startAt,
                    "--part", dir.appendingPathComponent("part-\(k)").path,
                ]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                return process
            }
            for shard in shards {
                shard.waitUntilExit()
                #expect(shard.terminationStatus == 0)
            }
            let parts = (0..<2).map { dir.appendingPathComponent("part-\($0)").path }
            let (status, out, err) = try Executable.run("cutover", ["merge"] + parts + ["--json"])
            #expect(status == 0, "\(err)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
            #expect(object["requests"] as? Int == 200 && object["valid"] as? Bool == true, "\(out)")
            let missing = try Executable.run("cutover", ["merge", parts[0]])
            #expect(missing.status == 2 && missing.err.contains("shard 1 of 2 missing"), "\(missing.err)")
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
        (["load", "--url", "http://127.0.0.1:1", "--rate", "10", "--duration", "1s", "--shard", "2/2", "--part", "/tmp/p"], "--shard"),
        (["load", "--url", "http://127.0.0.1:1", "--rate", "10", "--duration", "1s", "--shard", "0/2"], "--part"),
        (["load", "--url", "http://127.0.0.1:1", "--rate", "10", "--duration", "1s", "--start-at", "soon"], "--start-at"),
        (["merge"], "parts"),
        (["merge", "/nonexistent/part-0"], "/nonexistent/part-0"),
    ])
    func badFlagsExitTwo(arguments: [String], mention: String) throws {
        let (status, _, err) = try Executable.run("cutover", arguments)
        #expect(status == 2, "\(err)")
        #expect(err.contains(mention), "\(err)")
    }
}

/// The process's own descriptor limit, lowered and raised again: nothing else may open a
/// socket meanwhile.
@Suite("Descriptor limit", .needsTheWholeMachine)
struct DescriptorLimitTests {
    /// The harness raises its soft descriptor limit to the hard limit before it runs.
    @Test func theDescriptorLimitIsRaisedToTheHardLimit() throws {
        var original = rlimit()
        try #require(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &original) == 0)
        defer { _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &original) }
        var lowered = original
        lowered.rlim_cur = min(original.rlim_max, 256)
        try #require(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lowered) == 0)
        let raised = FileDescriptorTable.raiseLimit()
        #expect(raised == Int(min(original.rlim_max, 1 << 20)) && raised > 256)
    }
}
