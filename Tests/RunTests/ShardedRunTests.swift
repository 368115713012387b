import CutoverTestSupport
import Foundation
import Testing

/// `cutover run SUITE --shards N` (issue 17): N shard processes carry stripes of the one
/// schedule while this process coordinates; the merged run judges as one generator's, and
/// a shard killed mid-run makes the run invalid, naming it.
@Suite("Sharded runs", .serialized)
struct ShardedRunTests {
    static let suite = """
        name: sharded
        seed: 13
        duration: 4s
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
        let cutover = ReleaseBuild.require("cutover")
        try #require(cutover.missing == nil, "\(cutover.missing ?? "")")
        let reports = dir.appendingPathComponent("reports-\(shards ?? 0)")
        let result = try Executable.run(
            cutover.url, ["run", suite.path, "--report-dir", reports.path, "--ledger"] + (shards.map { ["--shards", String($0)] } ?? []),
            environment: ["CUTOVER_SUITES": ReleaseBuild.suites.path])
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
        #expect(single.verdict == "pass" && single.slots.count == 480)
        #expect(Set(single.canarySessions.values) == ["blue", "green"])
        for shards in [1, 2, 4] {
            let sharded = try Self.run(suite, shards: shards, in: dir)
            #expect(sharded.slots == single.slots, "\(shards) shards: other slots")
            #expect(sharded.canarySessions == single.canarySessions, "\(shards) shards: sessions on other sides")
            #expect(sharded.verdict == single.verdict && sharded.checks == single.checks, "\(shards) shards: \(sharded.checks)")
        }
    }

    /// The processes below `root`, with their command lines.
    static func descendants(of root: Int32) -> [(pid: Int32, command: String)] {
        var parents: [Int32: Int32] = [:]
        var commands: [Int32: String] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, let parent = Int32(fields[1]) else { continue }
            parents[pid] = parent
            commands[pid] = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?.replacingOccurrences(of: "\0", with: " ") ?? ""
        }
        return parents.keys.filter { pid in
            var current = pid
            while let parent = parents[current], parent > 1 {
                if parent == root { return true }
                current = parent
            }
            return false
        }.map { ($0, commands[$0] ?? "") }
    }

    @Test func aShardKilledMidRunMakesTheRunInvalidAndNamesIt() async throws {
        let cutover = ReleaseBuild.require("cutover")
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
        try await Task.sleep(for: .seconds(3))
        kill(pid, SIGKILL)
        process.waitUntilExit()
        let text = try String(contentsOf: output, encoding: .utf8)
        #expect(process.terminationStatus == 3, "\(text.suffix(1_500))")
        #expect(text.contains("INVALID RUN: shard 1 of 2 ended with status 9 and left no ledger part (killed?)"), "\(text.suffix(1_500))")
        #expect(!text.contains("VERDICT: PASS"))
    }
}
