import CutoverTestSupport
import Foundation
import Testing

/// The `exec` and `http` profiles end to end through the CLI: the shipped examples certify
/// the reference router as `--router reference` does, a profile whose canary ignores
/// green's health fails HealthGate, and nothing the start command started outlives the
/// run, also when the harness is interrupted.
@Suite("Router profiles end to end", .serialized, .sharesTheMachine)
struct RouterProfileRunTests {
    static let examples = BuiltProduct.suites.appendingPathComponent("routers/examples")

    @Test(arguments: ["exec-bluegreen", "http-bluegreen"])
    func theExampleProfilesPassSmoke(profile: String) async throws {
        let cutover = BuiltProduct.require("cutover")
        try #require(cutover.missing == nil, "\(cutover.missing ?? "")")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-profile-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await Executable.runOnItsOwnThread(
            cutover.url, ["run", "smoke", "--router", Self.examples.appendingPathComponent("\(profile).yaml").path, "--report-dir", dir.path],
            environment: ["CUTOVER_SUITES": BuiltProduct.suites.path])
        #expect(result.status == 0, "\(result.out)\n\(result.err)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("report.json"))) as? [String: Any])
        let router = try #require(report["router"] as? [String: Any])
        // The build is named from the profile: its name, the router's version, the binary's hash.
        #expect(router["profile"] as? String == profile && router["version"] as? String != "unknown")
        #expect((router["sha256"] as? String)?.count == 64, "\(router)")
        let actions = try #require(report["actions"] as? [[String: Any]])
        #expect(actions.contains { $0["name"] as? String == "rollback" && $0["reported_green_weight"] as? Int == 0 }, "\(actions)")
    }

    /// A folder with a short health-gate suite and an `exec` profile whose start command
    /// leaves a background `sleep` in its group and writes that PID down.
    static func scratch(canary: String) throws -> (dir: URL, suite: URL, profile: URL, sleeper: URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-gate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let sleeper = dir.appendingPathComponent("sleeper.pid")
        let suite = try NginxProfileTests.suite(
            "gate", duration: "8s",
            timeline: [
                "{at: 0s, phase: baseline}", "{at: 1s, fault: {target: green, id: down, kind: outage, mode: refuse}}",
                "{at: 3s, action: canary, percent: 10, expect: refused, phase: gated}",
            ], checks: "[HealthGate, ZeroDropped]", in: dir)
        let profile = dir.appendingPathComponent("gate-profile.yaml")
        let admin = "http://127.0.0.1:{admin_port}"
        try """
        name: gate-profile
        kind: exec
        start: "sleep 300 & echo $! > \(sleeper.path); exec bluegreen-router --blue {blue} --green {green} --listen 127.0.0.1:{port} --admin 127.0.0.1:{admin_port} --state-file {workdir}/state.json --health-interval 1s --log-level warning"
        url: "http://127.0.0.1:{port}"
        ready: "\(admin)/admin/status"
        canary: "\(canary.replacingOccurrences(of: "ADMIN", with: admin))"
        promote: "cutover deploy --admin \(admin) --phase promote"
        rollback: "cutover deploy --admin \(admin) --phase rollback"
        status: "curl -s \(admin)/admin/status"
        """.write(to: profile, atomically: true, encoding: .utf8)
        return (dir, suite, profile, sleeper)
    }

    static let honestCanary = "cutover deploy --admin ADMIN --phase canary --canary-percentage {percent}"

    @Test func aCanaryThatIgnoresGreensHealthFailsHealthGate() async throws {
        let cutover = BuiltProduct.require("cutover")
        try #require(cutover.missing == nil, "\(cutover.missing ?? "")")
        // The deploy step swallows the router's refusal: it reports a canary done while green is down.
        let bad = try Self.scratch(canary: Self.honestCanary + " || true")
        defer { try? FileManager.default.removeItem(at: bad.dir) }
        let result = try await Executable.runOnItsOwnThread(cutover.url, ["run", bad.suite.path, "--router", bad.profile.path])
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        let gate = result.out.split(separator: "\n").first { $0.hasPrefix("HealthGate") } ?? ""
        #expect(gate.contains("FAIL"), "\(result.out)")
        // The honest profile passes the same suite.
        let good = try Self.scratch(canary: Self.honestCanary)
        defer { try? FileManager.default.removeItem(at: good.dir) }
        let passed = try await Executable.runOnItsOwnThread(cutover.url, ["run", good.suite.path, "--router", good.profile.path])
        #expect(passed.status == 0, "\(passed.out)\n\(passed.err)")
        // Whatever the start command left in its group is gone when the run ends.
        for scratch in [bad, good] {
            let pid = try #require(Int32(try String(contentsOf: scratch.sleeper, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(kill(pid, 0) != 0, "the start command's background sleep \(pid) outlived the run")
        }
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func anInterruptStopsTheWholeStartGroup(signal: Int32) async throws {
        let cutover = BuiltProduct.require("cutover")
        try #require(cutover.missing == nil, "\(cutover.missing ?? "")")
        let scratch = try Self.scratch(canary: Self.honestCanary)
        defer { try? FileManager.default.removeItem(at: scratch.dir) }
        let process = Process()
        process.executableURL = cutover.url
        process.arguments = ["run", scratch.suite.path, "--router", scratch.profile.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        try await waitFor(timeout: .seconds(20)) { FileManager.default.fileExists(atPath: scratch.sleeper.path) }
        try await Task.sleep(for: .seconds(2))
        let pid = try #require(Int32(try String(contentsOf: scratch.sleeper, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) == 0)
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(process.terminationStatus == 128 + signal)
        try await waitFor(timeout: .seconds(5)) { kill(pid, 0) != 0 }
    }
}
