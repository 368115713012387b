import Cutover
import CutoverTestSupport
import Foundation
import Testing

/// The `haproxy` profile against the HAProxy on this machine: a run completes and names the
/// build, runtime weights survive a reload only with server state, a static hash ignores
/// weight changes, and neither HAProxy nor nginx outlives an interrupted harness or a
/// crashed router.
@Suite("haproxy profile", .serialized, .sharesTheMachine(using: "nginx and HAProxy"))
struct HAProxyProfileTests {
    static func leftoverHAProxy() -> [String] { NginxProfileTests.leftover("haproxy", config: "haproxy.cfg") }

    static func status(_ report: [String: Any], _ check: String) -> String? { NginxProfileTests.status(report, check) }

    /// A check's evidence in report.json, as JSON text.
    static func evidence(_ report: [String: Any], _ check: String) -> String {
        let entry = ((report["checks"] as? [[String: Any]]) ?? []).first { $0["name"] as? String == check }
        guard let evidence = entry?["evidence"], let data = try? JSONSerialization.data(withJSONObject: evidence) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    @Test func aRunCompletesAndLeavesNothing() async throws {
        let result = try await NginxProfileTests.run("smoke", router: "haproxy")
        #expect(result.status == 0 || result.status == 1, "\(result.out)")
        let router = try #require(result.report["router"] as? [String: Any])
        #expect(router["profile"] as? String == "haproxy" && (router["version"] as? String)?.first?.isNumber == true, "\(router)")
        #expect((router["sha256"] as? String)?.count == 64)
        #expect(Self.status(result.report, "ActionsHonoured") == "pass", "\(result.out)")
        #expect(Self.leftoverHAProxy().isEmpty, "\(Self.leftoverHAProxy())")
    }

    /// Weights set over the runtime API live in the running worker. A reload reads
    /// haproxy.cfg again, so without the saved server state green is back at 0 %.
    @Test func aReloadWithoutServerStateLosesTheRuntimeWeights() async throws {
        let suite = try NginxProfileTests.suite(
            "reload", duration: "8s",
            timeline: ["{at: 0s, phase: baseline}", "{at: 1s, action: canary, percent: 30, phase: canary-30}", "{at: 4s, action: restart}"],
            checks: "[StateSurvivesRestart]")
        defer { try? FileManager.default.removeItem(at: suite.deletingLastPathComponent()) }
        let profile = try NginxProfileTests.profile("server_state: false", kind: "haproxy")
        defer { try? FileManager.default.removeItem(at: profile.deletingLastPathComponent()) }
        let lost = try await NginxProfileTests.run(suite.path, router: profile.path)
        #expect(lost.status == 1, "\(lost.out)")
        #expect(Self.status(lost.report, "StateSurvivesRestart") == "fail", "\(lost.out)")
        #expect(Self.evidence(lost.report, "StateSurvivesRestart").contains("came back as 0 %"), "\(lost.out)")
        let kept = try await NginxProfileTests.run(suite.path, router: "haproxy")
        #expect(Self.status(kept.report, "StateSurvivesRestart") == "pass", "\(kept.out)")
        #expect(Self.leftoverHAProxy().isEmpty, "\(Self.leftoverHAProxy())")
    }

    /// `balance hdr()` without `hash-type consistent` is static: HAProxy refuses the canary's
    /// weights. A deploy that drops HAProxy's answer believes the canary happened.
    @Test func aStaticHashIgnoresWeightChanges() async throws {
        let suite = try NginxProfileTests.suite(
            "static", duration: "6s", timeline: ["{at: 0s, phase: baseline}", "{at: 1s, action: canary, percent: 50, phase: canary-50}"],
            checks: "[{name: SplitAccuracy, phases: [canary-50]}]")
        defer { try? FileManager.default.removeItem(at: suite.deletingLastPathComponent()) }
        let careless = try NginxProfileTests.profile("hash_type: map-based\nruntime_answers: ignored", kind: "haproxy")
        defer { try? FileManager.default.removeItem(at: careless.deletingLastPathComponent()) }
        let ignored = try await NginxProfileTests.run(suite.path, router: careless.path)
        #expect(ignored.status == 1, "\(ignored.out)")
        #expect(Self.status(ignored.report, "SplitAccuracy") == "fail", "\(ignored.out)")
        #expect(Self.evidence(ignored.report, "ActionsHonoured").contains("static LB algorithm"), "\(ignored.out)")
        // Checking the answer turns the same defect into a refused canary, in HAProxy's words.
        let checked = try NginxProfileTests.profile("hash_type: map-based", kind: "haproxy")
        defer { try? FileManager.default.removeItem(at: checked.deletingLastPathComponent()) }
        let refused = try await NginxProfileTests.run(suite.path, router: checked.path)
        #expect(Self.status(refused.report, "ActionsHonoured") == "fail", "\(refused.out)")
        #expect(Self.evidence(refused.report, "ActionsHonoured").contains("static LB algorithm"), "\(refused.out)")
        // Consistent hashing honours the same canary.
        let honest = try await NginxProfileTests.run(suite.path, router: "haproxy")
        #expect(Self.status(honest.report, "SplitAccuracy") == "pass" && Self.status(honest.report, "ActionsHonoured") == "pass", "\(honest.out)")
    }

    /// `cutover certify` drives every suite with one driver: each run must start with
    /// everything on blue, not at the weights the last suite left (a promote left nginx's
    /// and HAProxy's drivers at 100 %, so the next suite's canary skipped their health gate).
    @Test(arguments: ["nginx", "haproxy"])
    func aDriverStartsEveryRunOnBlue(kind: String) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-driver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let profile = try RouterProfile.parse(yaml: "name: \(kind)\nkind: \(kind)\nhealth_gate: false\n", source: "test", folder: dir)
        let driver = profile.driver()
        // One mock is both environments: the routers must reach an upstream to serve.
        try await withMock { mock in
            for run in 1...2 {
                let workdir = dir.appendingPathComponent("run-\(run)")
                try FileManager.default.createDirectory(at: workdir, withIntermediateDirectories: true)
                _ = try await driver.start(RouterEnvironment(blue: mock.url, green: mock.url, workdir: workdir))
                #expect(await driver.greenWeight() == 0, "\(kind), run \(run)")
                #expect(await driver.perform(.promote).accepted, "\(kind), run \(run)")
                #expect(await driver.greenWeight() == 100, "\(kind), run \(run)")
                await driver.stop()
            }
        }
    }

    /// How a run is ended early: a signal to the harness, or SIGKILL to the router's master.
    enum Ending: String, CaseIterable { case sigint, sigterm, routerCrash }

    /// Each signal once (the signal path is the harness's, not the router's), the crash for both.
    @Test(arguments: [("nginx", Ending.sigint), ("haproxy", .sigterm), ("nginx", .routerCrash), ("haproxy", .routerCrash)])
    func nothingOutlivesAnInterruptOrACrash(router: String, ending: Ending) async throws {
        let cutover = BuiltProduct.require("cutover")
        try #require(cutover.missing == nil, "\(cutover.missing ?? "")")
        let suite = try NginxProfileTests.suite(
            "ending", duration: "8s", timeline: ["{at: 0s, phase: baseline}", "{at: 1s, action: canary, percent: 20, phase: canary-20}"],
            checks: "[ZeroDropped]")
        defer { try? FileManager.default.removeItem(at: suite.deletingLastPathComponent()) }
        let report = suite.deletingLastPathComponent().appendingPathComponent("report")
        let process = Process()
        process.executableURL = cutover.url
        process.arguments = ["run", suite.path, "--router", router, "--report-dir", report.path]
        process.environment = ProcessInfo.processInfo.environment.merging(["CUTOVER_SUITES": BuiltProduct.suites.path]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let (program, config) = router == "nginx" ? ("nginx", "nginx.conf") : ("haproxy", "haproxy.cfg")
        try await waitFor(timeout: .seconds(30)) { !NginxProfileTests.leftover(program, config: config).isEmpty }
        try await Task.sleep(for: .seconds(2))
        // Workers (nginx's do not name their configuration) are found by the router's process group.
        let routers = NginxProfileTests.leftover(program, config: config).compactMap { Int32($0.prefix { $0 != ":" }) }
        let groups = Set(routers.compactMap { Self.stat($0)?.group })
        #expect(!groups.isEmpty && !Self.members(of: groups).isEmpty)
        switch ending {
        case .sigint: kill(process.processIdentifier, SIGINT)
        case .sigterm: kill(process.processIdentifier, SIGTERM)
        case .routerCrash:
            // The master: the router process whose parent is not a router process.
            let master = try #require(routers.first { pid in !routers.contains(Self.stat(pid)?.parent ?? 0) })
            kill(master, SIGKILL)
        }
        process.waitUntilExit()
        switch ending {
        case .sigint: #expect(process.terminationStatus == 128 + SIGINT)
        case .sigterm: #expect(process.terminationStatus == 128 + SIGTERM)
        // The verdict is the router's finding (nginx's orphaned workers go on serving;
        // HAProxy's worker leaves with its master): the run ends and judges.
        case .routerCrash: #expect([0, 1, 3].contains(process.terminationStatus), "exit \(process.terminationStatus)")
        }
        try await waitFor(timeout: .seconds(5)) { Self.members(of: groups).isEmpty }
        #expect(NginxProfileTests.leftover(program, config: config).isEmpty)
    }

    /// A process's parent and process group, from /proc.
    /// A zombie (ended, not yet reaped) counts as gone.
    static func stat(_ pid: Int32) -> (parent: Int32, group: Int32)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 3, fields[0] != "Z", let parent = Int32(fields[1]), let group = Int32(fields[2]) else { return nil }
        return (parent, group)
    }

    /// Live processes in any of `groups`.
    static func members(of groups: Set<Int32>) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in stat(pid).map { groups.contains($0.group) } ?? false }
    }
}
