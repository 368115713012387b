import Cutover
import CutoverTestSupport
import Foundation
import NIOPosix
import Testing

/// The harness never blames the router for its own faults: a mock that fell behind makes
/// the run invalid, naming the mock and the figure.
@Suite("Harness validity", .serialized, .needsTheWholeMachine)
struct HarnessValidityTests {
    /// The mocks' event loops are blocked for 150 ms ten times during a canary (as a mock
    /// starved of CPU would be): whatever the router seemed to do meanwhile, the run cannot
    /// judge it.
    @Test func aMockThatFellBehindVoidsTheRun() async throws {
        let suite = try Suite.parse(
            yaml: """
                name: mock-behind
                seed: 16
                duration: 5s
                load: {rate: 100, sessions: 200}
                timeline:
                  - {at: 0s, phase: baseline}
                  - {at: 1s, action: canary, percent: 50, phase: c50}
                checks: [ZeroDropped, GeneratorValid]
                """, source: "test-suite")
        let router = BuiltProduct.require("bluegreen-router")
        try #require(router.missing == nil, "\(router.missing ?? "")")
        let blocker = Task {
            try await Task.sleep(for: .seconds(1))
            for _ in 0..<10 {
                for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() { loop.execute { usleep(150_000) } }
                try await Task.sleep(for: .milliseconds(300))
            }
        }
        defer { blocker.cancel() }
        let run = try await SuiteRunner(suite: suite, router: ReferenceRouter(executable: router.url)).run()
        #expect(run.verdict == .invalid, "\(run.checks.map { "\($0.name) \($0.status)" })")
        #expect(run.harnessProblems.contains { $0.hasPrefix("the blue mock fell behind: its event loops ran up to") }, "\(run.harnessProblems)")
        #expect(run.harnessProblems.contains { $0.hasPrefix("the green mock fell behind") }, "\(run.harnessProblems)")
    }
}
