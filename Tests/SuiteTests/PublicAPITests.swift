import Foundation
import Testing

@testable import Cutover

/// The public API's pure parts (issue 16): suites and router profiles built in code meet
/// the rules of their files, and a result's summary reads as a test failure should.
@Suite("Public API")
struct PublicAPITests {
    static let canaryYAML = """
        name: coded
        description: built twice
        seed: 9
        duration: 12s
        upstreams:
          green: {models: [gpt-4.1], faults: [{id: slow, kind: latency, distribution: {type: fixed, ms: 20}}]}
        load:
          model: open
          rate: 50
          ramp_to: 80
          sessions: 200
          mix:
            - {endpoint: chat, weight: 3, max_tokens: 16}
            - {endpoint: chat-stream, weight: 1, max_tokens: 8}
          timeout: 10s
        timeline:
          - {at: 0s, phase: baseline}
          - {at: 1s, action: validate}
          - {at: 2s, action: canary, percent: 25, phase: canary-25}
          - {at: 4s, fault: {target: green, id: down, kind: outage, mode: reset}}
          - {at: 5s, action: canary, percent: 50, expect: refused}
          - {at: 6s, heal: {target: green, fault: down}}
          - {at: 7s, action: promote, phase: promoted}
          - {at: 9s, action: rollback, phase: rolled-back}
        checks:
          - ZeroDropped
          - {name: SplitAccuracy, phases: [canary-25], alpha: 0.01}
          - {name: RollbackTime, max: 500ms}
          - {name: LatencyBudget, factor: 4}
        """

    static func coded() throws -> Suite {
        try Suite(
            name: "coded", description: "built twice", seed: 9, duration: .seconds(12),
            load: .open(rate: 50, rampTo: 80, sessions: 200, mix: [.chat(weight: 3), .chatStream(weight: 1, maxTokens: 8)], timeout: .seconds(10)),
            upstreams: [.green: Suite.Upstream(models: ["gpt-4.1"], faults: [Fault(id: "slow", kind: .latency(.fixed(ms: 20)))])],
            timeline: [
                .at(.zero, phase: "baseline"),
                .at(.seconds(1), .validate),
                .at(.seconds(2), .canary(percent: 25), phase: "canary-25"),
                .at(.seconds(4), .fault(Fault(id: "down", kind: .outage(.reset)), on: .green)),
                .at(.seconds(5), .canary(percent: 50), expectRefused: true),
                .at(.seconds(6), .healFault(id: "down", on: .green)),
                .at(.seconds(7), .promote, phase: "promoted"),
                .at(.seconds(9), .rollback, phase: "rolled-back"),
            ],
            checks: [
                .zeroDropped, Suite.Check("SplitAccuracy", phases: ["canary-25"], alpha: 0.01), Suite.Check("RollbackTime", max: .milliseconds(500)),
                Suite.Check("LatencyBudget", factor: 4),
            ])
    }

    /// A suite built in code is the suite its YAML twin describes, field for field.
    @Test func suiteBuiltInCodeEqualsItsFile() throws {
        let code = try Self.coded()
        let file = try Suite.parse(yaml: Self.canaryYAML, source: "coded.yaml")
        #expect(code.name == file.name && code.description == file.description && code.seed == file.seed && code.duration == file.duration)
        #expect(code.upstreams == file.upstreams)
        #expect(
            code.timeline.map { TimelineStep(at: $0.at, phase: $0.phase, event: $0.event, expect: $0.expect) }
                == file.timeline.map { TimelineStep(at: $0.at, phase: $0.phase, event: $0.event, expect: $0.expect) })
        #expect(
            code.checks.map { CheckSpec(name: $0.name, phases: $0.phases, alpha: $0.alpha, max: $0.max, factor: $0.factor, tolerance: $0.tolerance) }
                == file.checks.map { CheckSpec(name: $0.name, phases: $0.phases, alpha: $0.alpha, max: $0.max, factor: $0.factor, tolerance: $0.tolerance) })
        #expect(code.load.model == file.load.model && code.load.sessions == file.load.sessions && code.load.timeout == file.load.timeout)
        #expect(code.load.mix.map(\.endpoint) == file.load.mix.map(\.endpoint) && code.load.mix.map(\.weight) == file.load.mix.map(\.weight))
        #expect(code.load.mix.map(\.tokens) == file.load.mix.map(\.tokens))
    }

    /// Each mistake in a suite built in code names its field, as a file's would.
    @Test func badSuitesNameTheirField() {
        let cases: [(field: String, build: () throws -> Suite)] = [
            ("name", { try Suite(name: "bad name", duration: .seconds(5), load: .open(rate: 1), timeline: [.at(.zero, phase: "a")], checks: [.zeroDropped]) }),
            ("load.rate", { try Suite(name: "x", duration: .seconds(5), load: .open(rate: 0), timeline: [.at(.zero, phase: "a")], checks: [.zeroDropped]) }),
            (
                "timeline[1].at",
                {
                    try Suite(
                        name: "x", duration: .seconds(5), load: .open(rate: 1), timeline: [.at(.seconds(2), phase: "a"), .at(.seconds(1), phase: "b")],
                        checks: [.zeroDropped])
                }
            ),
            (
                "timeline[0].at",
                { try Suite(name: "x", duration: .seconds(5), load: .open(rate: 1), timeline: [.at(.seconds(9), phase: "a")], checks: [.zeroDropped]) }
            ),
            (
                "timeline[0].percent",
                { try Suite(name: "x", duration: .seconds(5), load: .open(rate: 1), timeline: [.at(.zero, .canary(percent: 120))], checks: [.zeroDropped]) }
            ),
            (
                "checks[0].name",
                { try Suite(name: "x", duration: .seconds(5), load: .open(rate: 1), timeline: [.at(.zero, phase: "a")], checks: [Suite.Check("ZeroDroped")]) }
            ),
            (
                "checks[0].alpha",
                {
                    try Suite(
                        name: "x", duration: .seconds(5), load: .open(rate: 1), timeline: [.at(.zero, phase: "a")],
                        checks: [Suite.Check("Stickiness", alpha: 0.1)])
                }
            ),
            ("checks", { try Suite(name: "x", duration: .seconds(5), load: .open(rate: 1), timeline: [.at(.zero, phase: "a")], checks: []) }),
        ]
        for (field, build) in cases {
            let error = #expect(throws: CutoverError.self, "\(field)") { try build() }
            #expect(error?.field == field, "\(error.map(String.init(describing:)) ?? "no error")")
        }
    }

    @Test func badSuiteErrorsSayWhereAndWhat() {
        let error = #expect(throws: CutoverError.self) {
            try Suite(
                name: "x", duration: .seconds(5), load: .open(rate: 1), timeline: [.at(.seconds(2), phase: "a"), .at(.seconds(1), phase: "b")],
                checks: [.zeroDropped])
        }
        #expect(error?.source == "suite 'x' built in code" && error?.field == "timeline[1].at")
        #expect(error?.description.contains("times out of order") == true)
        let unknown = #expect(throws: CutoverError.self) {
            try Suite(name: "x", duration: .seconds(5), load: .open(rate: 1), timeline: [.at(.zero, phase: "a")], checks: [Suite.Check("ZeroDroped")])
        }
        #expect(unknown?.field == "checks[0].name" && unknown?.message.contains("unknown check 'ZeroDroped'") == true)
        #expect(throws: CutoverError.self) { try Suite.named("no-such-suite") }
        #expect(throws: CutoverError.self) { try Suite.file("/nonexistent/suite.yaml") }
    }

    /// Router profiles built in code meet the rules of profile files.
    @Test func routerProfilesBuiltInCode() throws {
        let exec = try RouterProfile.exec(
            start: "my-router --blue {blue} --green {green} --port {port}", url: "http://127.0.0.1:{port}", canary: "set-weight {percent}",
            promote: "set-weight 100",
            rollback: "set-weight 0", folder: "/tmp")
        #expect(exec.kind == .exec && exec.actions.count == 3 && exec.folder.path == "/tmp")
        let percentInPromote = #expect(throws: CutoverError.self) {
            try RouterProfile.exec(url: "http://127.0.0.1:{port}", canary: "w {percent}", promote: "w {percent}", rollback: "w 0")
        }
        #expect(percentInPromote?.field == "promote" && percentInPromote?.source == "router profile 'exec' built in code")
        let http = try RouterProfile.http(
            url: "http://127.0.0.1:{port}", canary: .init("http://127.0.0.1:{admin_port}/weights", body: #"{"green": {percent}}"#),
            promote: .init("http://127.0.0.1:{admin_port}/promote", method: "PUT"), rollback: .init("http://127.0.0.1:{admin_port}/rollback", body: "{}"))
        guard case .request(let promote)? = http.actions["promote"] else { Issue.record("promote is not a request"); return }
        #expect(http.kind == .http && promote.method == "PUT" && promote.url.text == "http://127.0.0.1:{admin_port}/promote")
        let notHTTP = #expect(throws: CutoverError.self) {
            try RouterProfile.http(
                url: "http://127.0.0.1:{port}", canary: .init("ftp://x/{percent}"), promote: .init("http://x/p"), rollback: .init("http://x/r"))
        }
        #expect(notHTTP?.field == "actions.canary.url")
        #expect(throws: CutoverError.self) { try RouterProfile.nginx(workers: 0) }
        #expect(try RouterProfile.haproxy(keepServerState: false).haproxy?.serverState == false)
        #expect(RouterProfile.reference(binary: "/opt/router").routerBinary().path == "/opt/router")
        #expect(throws: CutoverError.self) { try RouterProfile.named("no-such-router") }
    }

    /// The summary a failed test prints: verdict, seed, build, then each failed check with
    /// its measure and bound and its first offending requests.
    @Test func summaryReadsAsATestFailure() throws {
        let ids = (1...8).map { "coded-9-00\($0) chat: router-error, status 502" }
        let dropped = CheckResult(
            name: "ZeroDropped", status: .fail, summary: "8 of 20 requests dropped (8 router errors, 0 transport); bound 0",
            evidence: ZeroDropped.Evidence(requests: 20, dropped: 8, routerError: 8, transport: 0, requestIDs: ids.map { String($0.prefix(9)) }, examples: ids))
        let result = RunResult(try ReportTests.run("coded", checks: [ReportTests.pass, dropped, ReportTests.inconclusive]))
        #expect(result.verdict == .fail && result.failures.map(\.name) == ["ZeroDropped"])
        #expect(dropped.offendingRequests == ids)
        let lines = result.summary.split(separator: "\n").map(String.init)
        #expect(lines[0] == "coded (seed 1) against reference 1.0 (sha256 aaaaaaaaaaaa): FAIL, 1 of 3 checks failed")
        #expect(lines[1] == "  ✘ ZeroDropped: 8 of 20 requests dropped (8 router errors, 0 transport); bound 0")
        #expect(Array(lines[2...6]) == ids.prefix(5).map { "      " + $0 })
        #expect(lines[7] == "  ? HealthGate (inconclusive): no gated canary")
        #expect(lines.count == 8)
        let passed = RunResult(try ReportTests.run("coded", checks: [ReportTests.pass]))
        #expect(passed.summary == "coded (seed 1) against reference 1.0 (sha256 aaaaaaaaaaaa): PASS, 1 checks passed")
        #expect(passed.json.contains(#""verdict""#) && passed.junitXML.contains("<testsuite") && passed.html.contains("<html"))
    }
}
