import Cutover
import CutoverTestSupport
import Foundation
import Testing

/// `cutover run SUITE --shards N` (issue 17): N shard processes carry stripes of the one
/// schedule while this process coordinates; the merged run judges as one generator's, and
/// a shard killed mid-run makes the run invalid, naming it.
@Suite("Sharded runs", .serialized, .needsTheWholeMachine)
struct ShardedRunTests {
    static let suite = """
        name: sharded
        seed: 13
        duration: 5s
        load:
          rate: 120
          sessions: 200
          mix:
            - {endpoint: chat, weight: 3, max_tokens: 8}
            - {endpoint: models, weight: 1}
        timeline:
          - {at: 0s, phase: baseline}
          - {at: 2s, action: canary, percent: 30, phase: canary-30}
        checks:
          - ZeroDropped
          - Stickiness
          - {name: SplitAccuracy, phases: [canary-30]}
          - GeneratorValid
        """

    static func scratch() throws -> (dir: URL, suite: URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-sharded-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let suite = dir.appendingPathComponent("sharded.yaml")
        try Self.suite.write(to: suite, atomically: true, encoding: .utf8)
        return (dir, suite)
    }

    /// Verdicts, scheduled slots and each session's environment in the steady canary.
    struct Outcome: Equatable {
        var verdict: String
        var checks: [String]
        var slots: [String]
        var canarySessions: [String: String]
    }

    static func run(_ suite: URL, shards: Int?, in dir: URL) throws -> Outcome {
        let cutover = BuiltProduct.require("cutover")
        try #require(cutover.missing == nil, "\(cutover.missing ?? "")")
        let reports = dir.appendingPathComponent("reports-\(shards ?? 0)")
        let result = try Executable.run(
            cutover.url, ["run", suite.path, "--report-dir", reports.path, "--ledger"] + (shards.map { ["--shards", String($0)] } ?? []),
            environment: ["CUTOVER_SUITES": BuiltProduct.suites.path])
        #expect(result.status == 0, "\(shards ?? 0) shards: \(result.out.suffix(1_500))\n\(result.err)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: reports.appendingPathComponent("report.json"))) as? [String: Any])
        let checks = (report["checks"] as? [[String: Any]] ?? []).map { "\($0["name"] ?? "") \($0["status"] ?? "")" }
        var slots: [String] = []
        var canary: [String: String] = [:]
        for line in try String(contentsOf: reports.appendingPathComponent("ledger.jsonl"), encoding: .utf8).split(separator: "\n") {
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let intended = record["intended_us"] as? Int ?? 0
            slots.append("\(record["request_id"] ?? "") \(record["session"] ?? "") \(record["endpoint"] ?? "") \(intended)")
            // Half a second after the canary returned, every session's side is settled.
            if intended > 2_500_000, let session = record["session"] as? String, let env = record["env"] as? String { canary[session] = env }
        }
        return Outcome(verdict: report["verdict"] as? String ?? "", checks: checks, slots: slots, canarySessions: canary)
    }

    @Test func oneTwoAndFourShardsJudgeAsOneGenerator() throws {
        let (dir, suite) = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let single = try Self.run(suite, shards: nil, in: dir)
        #expect(single.verdict == "pass" && single.slots.count == 600)
        #expect(Set(single.canarySessions.values) == ["blue", "green"])
        for shards in [1, 2, 4] {
            let sharded = try Self.run(suite, shards: shards, in: dir)
            #expect(sharded.slots == single.slots, "\(shards) shards: other slots")
            #expect(sharded.canarySessions == single.canarySessions, "\(shards) shards: sessions on other sides")
            #expect(sharded.verdict == single.verdict && sharded.checks == single.checks, "\(shards) shards: \(sharded.checks)")
        }
    }

    /// A coordinator and two shards started apart, as on three machines: the shards find the
    /// run at the coordinator, measure their clocks against it and carry their stripes; one
    /// whose clock is 400 ms off makes the run invalid, naming it, and the other's small
    /// offset is recorded in its part.
    @Test func aCoordinatorRejectsAShardWhoseClockIsOff() async throws {
        let cutover = BuiltProduct.require("cutover")
        try #require(cutover.missing == nil, "\(cutover.missing ?? "")")
        let (dir, suite) = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let parts = dir.appendingPathComponent("parts")
        let port = try ScriptedRouter.freePort()
        func start(_ arguments: [String], output: String, environment: [String: String] = [:]) throws -> Process {
            let process = Process()
            process.executableURL = cutover.url
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let file = dir.appendingPathComponent(output)
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: file)
            process.standardError = process.standardOutput
            try process.run()
            return process
        }
        let coordinator = try start(
            [
                "run", suite.path, "--coordinator", "--shards", "2", "--parts-dir", parts.path, "--listen", "127.0.0.1:\(port)", "--start-delay", "3s",
                "--report-dir", dir.appendingPathComponent("report").path,
            ], output: "coordinator.txt")
        defer { if coordinator.isRunning { coordinator.terminate() } }
        let shards = try (0..<2).map { index in
            try start(
                [
                    "run", suite.path, "--shard", "\(index)/2", "--coordinator-url", "http://127.0.0.1:\(port)", "--part",
                    parts.appendingPathComponent("part-\(index)").path,
                ],
                output: "shard-\(index).txt", environment: index == 1 ? ["CUTOVER_TEST_CLOCK_SHIFT_MS": "400"] : [:])
        }
        for shard in shards {
            shard.waitUntilExit()
            #expect(shard.terminationStatus == 0, "\((try? String(contentsOf: dir.appendingPathComponent("shard-0.txt"), encoding: .utf8)) ?? "")")
        }
        coordinator.waitUntilExit()
        let text = try String(contentsOf: dir.appendingPathComponent("coordinator.txt"), encoding: .utf8)
        #expect(coordinator.terminationStatus == 3, "\(text.suffix(1_500))")
        #expect(text.contains("shard 1 of 2: its clock is 40") && text.contains("ms off the coordinator's (bound 50 ms)"), "\(text.suffix(1_500))")
        #expect(!text.contains("shard 0 of 2"), "\(text.suffix(1_500))")
        // Every shard's offset is measured and reported, not only the one beyond the bound.
        #expect(text.contains("clock offsets against the coordinator (bound 50 ms): shard 0 ") && text.contains(", shard 1 40"), "\(text.suffix(1_500))")
        // Every check judged the merged run (the load itself went well); the skew alone voids it.
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("report/report.json"))) as? [String: Any])
        #expect(report["verdict"] as? String == "invalid")
        #expect((report["checks"] as? [[String: Any]])?.allSatisfy { $0["status"] as? String == "pass" } == true, "\(report["checks"] ?? "")")
        let header = try #require(
            String(decoding: try Data(contentsOf: parts.appendingPathComponent("part-0")).prefix { $0 != 10 }, as: UTF8.self).data(using: .utf8))
        let offset = try #require((try JSONSerialization.jsonObject(with: header) as? [String: Any])?["clock_offset_ms"] as? Double)
        #expect(abs(offset) < 50, "shard 0 measured \(offset) ms")

        // The parts and the coordinator's part judge the run again, offline, to the same end.
        let partFiles = [parts.appendingPathComponent("part-0").path, parts.appendingPathComponent("part-1").path]
        let again = dir.appendingPathComponent("again")
        let merged = try Executable.run(
            cutover.url, ["merge"] + partFiles + [parts.appendingPathComponent("coordinator.json").path, "--report-dir", again.path])
        #expect(merged.status == 3 && merged.out.contains("its clock is 40"), "\(merged.out.suffix(1_500))\n\(merged.err)")
        let rejudged = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: again.appendingPathComponent("report.json"))) as? [String: Any])
        #expect(rejudged["verdict"] as? String == "invalid")
        #expect(
            (rejudged["checks"] as? [[String: Any]])?.map { "\($0["name"] ?? "") \($0["status"] ?? "")" }
                == (report["checks"] as? [[String: Any]])?.map { "\($0["name"] ?? "") \($0["status"] ?? "")" })
        let missing = try Executable.run(
            cutover.url, ["merge", partFiles[0], parts.appendingPathComponent("coordinator.json").path, "--report-dir", again.path])
        #expect(missing.status == 2 && missing.err.contains("shard 1 of 2 missing"), "\(missing.err)")
    }

    /// The processes below `root`, with their command lines.
    static func descendants(of root: Int32) -> [(pid: Int32, command: String)] {
        ProcessGroup.children(of: root).flatMap { pid in
            [(pid, ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").replacingOccurrences(of: "\0", with: " "))]
                + descendants(of: pid)
        }
    }

    @Test func aShardKilledMidRunMakesTheRunInvalidAndNamesIt() async throws {
        let cutover = BuiltProduct.require("cutover")
        try #require(cutover.missing == nil, "\(cutover.missing ?? "")")
        let (dir, suite) = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let process = Process()
        process.executableURL = cutover.url
        process.arguments = ["run", suite.path, "--shards", "2"]
        let output = dir.appendingPathComponent("out.txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // Kill shard 1 once the load runs (the shards start 1.5 s after the router is up).
        var victim: Int32?
        for _ in 0..<100 where victim == nil {
            try await Task.sleep(for: .milliseconds(100))
            victim = Self.descendants(of: process.processIdentifier).first { $0.command.contains("--shard 1/2") }?.pid
        }
        let pid = try #require(victim, "no shard 1/2 process appeared")
        // Its load starts 1.5 s after it does and runs 5 s: kill it 1 s into the load.
        try await Task.sleep(for: .milliseconds(2_500))
        kill(pid, SIGKILL)
        process.waitUntilExit()
        let text = try String(contentsOf: output, encoding: .utf8)
        #expect(process.terminationStatus == 3, "\(text.suffix(1_500))")
        #expect(text.contains("INVALID RUN: shard 1 of 2 ended with status 9 and left no ledger part (killed?)"), "\(text.suffix(1_500))")
        #expect(!text.contains("VERDICT: PASS"))
    }
}
