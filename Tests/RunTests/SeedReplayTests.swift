import ConfigInput
import CurlHTTP
import Cutover
import CutoverTestSupport
import Foundation
import HTTPServerCore
import Testing

@testable import MockUpstream

/// One seed replays a run: the same requests in the same order, the same timeline, and the
/// same fault decisions; another seed changes them.
@Suite("Seed replay", .sharesTheMachine)
struct SeedReplayTests {
    static let yaml = """
        name: replay
        seed: 99
        duration: 4s
        load:
          rate: 200
          sessions: 300
          mix: [{endpoint: chat, weight: 3}, {endpoint: chat-stream, weight: 1}, {endpoint: models, weight: 1}]
          models: [gpt-4.1, deepseek-v3.2]
        timeline:
          - {at: 0s, phase: baseline}
          - {at: 1s, fault: {target: green, id: flaky, kind: status, status: 503, probability: 0.3}}
          - {at: 2s, action: canary, percent: 40, phase: canary}
        checks: [ZeroDropped]
        """

    @Test func theSameSeedGivesTheSameRequestsTimelineAndFaultDecisions() throws {
        let suite = try Suite.parse(yaml: Self.yaml, source: "replay.yaml")
        #expect(try Suite.parse(yaml: Self.yaml, source: "replay.yaml").timeline == suite.timeline)
        let runner = SuiteRunner(suite: suite, router: FlawedRouter(.none))
        let a = runner.plan(url: "http://127.0.0.1:1")
        let b = SuiteRunner(suite: suite, router: FlawedRouter(.none)).plan(url: "http://127.0.0.1:1")
        let other = SuiteRunner(suite: suite, seed: 100, router: FlawedRouter(.none)).plan(url: "http://127.0.0.1:1")
        let slots = (0..<800).map { UInt64($0) }
        #expect(slots.map { a.choice(forSlot: $0) } == slots.map { b.choice(forSlot: $0) })
        #expect(slots.map { a.choice(forSlot: $0) } != slots.map { other.choice(forSlot: $0) })
        #expect(a.runID == "replay-99" && other.runID == "replay-100")

        // The green mock's fault draws follow the run's seed: the nth request through a fault
        // gets the same decision in every replay.
        guard case .fault(_, let fault) = suite.timeline[1].event else {
            Issue.record("expected a fault step")
            return
        }
        func decisions(seed: UInt64) -> [Bool] {
            let plan = FaultPlan(seed: seed, faults: [fault])
            return (0..<400).map { _ in plan.decide(path: "/v1/chat/completions", stream: false, model: "gpt-4.1").ids.contains("flaky") }
        }
        let greenSeed = runner.mockSeed(for: .green)
        #expect(decisions(seed: greenSeed) == decisions(seed: greenSeed))
        #expect(decisions(seed: greenSeed) != decisions(seed: greenSeed &+ 1))
        #expect(runner.mockSeed(for: .blue) != greenSeed)
    }
}
