import Cutover
import CutoverTestSupport
import Foundation
import Testing

/// Every check catches the defect it is named after: short suites run against known-bad
/// routers (in-process proxies with one flaw each) must fail exactly the checks that name
/// the flaw, while the reference router and a flawless proxy pass the same suites.
@Suite("Known-bad routers", .serialized)
struct KnownBadRouterTests {
    static let switching = """
        name: switching
        seed: 5
        duration: 8s
        upstreams:
          blue: {faults: [{id: pace, kind: stream-pace, ttft_ms: 50, tokens_per_second: 40}]}
          green: {faults: [{id: pace, kind: stream-pace, ttft_ms: 50, tokens_per_second: 40}]}
        load:
          rate: 150
          sessions: 400
          mix:
            - {endpoint: chat, weight: 60, max_tokens: 8}
            - {endpoint: chat-stream, weight: 30, max_tokens: 20}
            - {endpoint: models, weight: 10}
        timeline:
          - {at: 0s, phase: baseline}
          - {at: 2s, action: canary, percent: 10, phase: c10}
          - {at: 4s, action: canary, percent: 50, phase: c50}
          - {at: 5.5s, action: promote, phase: promoted}
          - {at: 6.5s, action: rollback, phase: rolled-back}
        checks:
          - ZeroDropped
          - Stickiness
          - MonotoneMovement
          - {name: SplitAccuracy, phases: [c10, c50], alpha: 0.001}
          - ZeroWeightIsolation
          - {name: RollbackTime, max: 500ms}
          - {name: ConvergenceTime, max: 1s}
          - StreamIntegrity
          - {name: LatencyBudget, factor: 3}
          - GeneratorValid
        """

    static let errors = """
        name: errors
        seed: 6
        duration: 6s
        load: {rate: 150, sessions: 400}
        timeline:
          - {at: 0s, phase: baseline}
          - {at: 1s, action: canary, percent: 50, phase: c50}
          - {at: 2s, fault: {target: green, id: storm, kind: status, status: 500, probability: 0.5}, phase: storm}
        checks: [ZeroDropped, NoDuplicateExecution, FaithfulRelay, GeneratorValid]
        """

    static let gate = """
        name: gate
        seed: 7
        duration: 6s
        load: {rate: 150, sessions: 400}
        timeline:
          - {at: 0s, phase: baseline}
          - {at: 0.5s, fault: {target: green, id: down, kind: outage, mode: refuse}}
          - {at: 1.5s, action: canary, percent: 10, phase: gated}
          - {at: 4s, heal: green}
        checks: [HealthGate, ZeroDropped, GeneratorValid]
        """

    static let restart = """
        name: restart
        seed: 8
        duration: 7s
        load: {rate: 150, sessions: 400}
        timeline:
          - {at: 0s, phase: baseline}
          - {at: 1s, action: canary, percent: 30, phase: c30}
          - {at: 3.5s, action: restart}
        checks: [StateSurvivesRestart, ZeroDropped, GeneratorValid]
        """

    struct Case: Sendable, CustomTestStringConvertible {
        var suite: String
        var router: Router
        /// The checks that name the defect; empty for the routers that must pass.
        var mustFail: Set<String>

        enum Router: Sendable {
            case reference
            case flawed(FlawedRouter.Flaw)
        }

        var testDescription: String {
            switch router {
            case .reference: "reference router passes \(suite.prefix { $0 != "\n" })"
            case .flawed(let flaw): "\(flaw) fails \(mustFail.sorted().joined(separator: ", "))"
            }
        }
    }

    static let cases: [Case] = [
        Case(suite: switching, router: .reference, mustFail: []),
        Case(suite: switching, router: .flawed(.none), mustFail: []),
        Case(suite: switching, router: .flawed(.randomSplit), mustFail: ["Stickiness"]),
        Case(suite: switching, router: .flawed(.skewedSplit(extra: 15)), mustFail: ["SplitAccuracy"]),
        Case(suite: switching, router: .flawed(.rehashesOnChange), mustFail: ["MonotoneMovement"]),
        Case(
            suite: switching, router: .flawed(.lateSwitch(delay: .milliseconds(1_500))), mustFail: ["ZeroWeightIsolation", "RollbackTime", "ConvergenceTime"]),
        Case(suite: switching, router: .flawed(.restartsOnSwitch), mustFail: ["ZeroDropped", "StreamIntegrity"]),
        Case(suite: switching, router: .flawed(.slowAfterSwitch(delay: .milliseconds(300))), mustFail: ["LatencyBudget"]),
        Case(suite: errors, router: .reference, mustFail: []),
        Case(suite: errors, router: .flawed(.retriesErrors), mustFail: ["NoDuplicateExecution", "FaithfulRelay"]),
        Case(suite: errors, router: .flawed(.rewritesErrors), mustFail: ["FaithfulRelay", "ZeroDropped"]),
        Case(suite: gate, router: .reference, mustFail: []),
        Case(suite: gate, router: .flawed(.ignoresHealth), mustFail: ["HealthGate"]),
        Case(suite: restart, router: .reference, mustFail: []),
        Case(suite: restart, router: .flawed(.forgetsOnRestart), mustFail: ["StateSurvivesRestart"]),
    ]

    @Test(arguments: cases)
    func checkCatchesTheFlaw(_ testCase: Case) async throws {
        let suite = try Suite.parse(yaml: testCase.suite, source: "test-suite")
        let driver: any RouterDriver
        switch testCase.router {
        case .reference:
            let router = ReleaseBuild.require("bluegreen-router")
            try #require(router.missing == nil, "\(router.missing ?? "")")
            driver = ReferenceRouter(executable: router.url)
        case .flawed(let flaw):
            driver = FlawedRouter(flaw)
        }
        let run = try await SuiteRunner(suite: suite, router: driver).run()
        let failed = Set(run.checks.filter { $0.status == .fail }.map(\.name))
        let table = run.checks.map { "\($0.name) \($0.status.rawValue): \($0.summary)" + ($0.status == .fail ? " \($0.evidence.text.prefix(600))" : "") }
            .joined(separator: "\n")
        #expect(!failed.contains("GeneratorValid"), "the run itself was invalid:\n\(table)")
        if testCase.mustFail.isEmpty {
            #expect(failed.isEmpty && run.verdict == .pass, "\(table)")
            #expect(run.checks.filter { $0.status == .pass }.count >= run.checks.count - 1, "\(table)")
        } else {
            #expect(testCase.mustFail.isSubset(of: failed), "expected \(testCase.mustFail.sorted()) to fail:\n\(table)")
            #expect(run.verdict == .fail)
        }
    }
}
