import Cutover
import CutoverTestSupport
import Foundation
import Testing

/// `Cutover.run` as a library user calls it (issue 16): a run gives a result and releases
/// what it started, and a cancelled run ends at once and still leaves no child behind.
@Suite("Cutover as a library", .serialized, .needsTheWholeMachine)
struct LibraryRunTests {
    /// A long open-model suite: cancelled long before its end.
    static func long() throws -> Suite {
        try Suite(
            name: "long", seed: 3, duration: .seconds(60), load: .open(rate: 100, sessions: 200, mix: [.chat(), .chatStream(maxTokens: 64)]),
            timeline: [.at(.zero, phase: "baseline"), .at(.seconds(2), .canary(percent: 20), phase: "canary")], checks: [.zeroDropped])
    }

    /// The router processes whose parent is this test process (other tests' children, when
    /// suites run in parallel, are not this run's).
    static func children() -> Set<Int32> {
        Set(
            ProcessGroup.children(of: getpid()).filter { pid in
                ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains("bluegreen-router")
            })
    }

    @Test func aCancelledRunEndsAtOnceAndStopsEverything() async throws {
        let router = BuiltProduct.require("bluegreen-router")
        try #require(router.missing == nil, "\(router.missing ?? "")")
        let before = Self.children()
        let suite = try Self.long()
        let run = Task { try await Cutover.run(suite: suite, router: .reference(binary: router.url.path)) }
        // Let the router start and the load run through the canary.
        try await Task.sleep(for: .seconds(4))
        let started = Self.children().subtracting(before)
        #expect(!started.isEmpty, "the run started no router process")
        let cancelledAt = ContinuousClock.now
        run.cancel()
        await #expect(throws: CancellationError.self) { try await run.value }
        // The load stops at once; stopping the router (SIGTERM, drain) takes a moment.
        let took = ContinuousClock.now - cancelledAt
        #expect(took < .seconds(20), "the cancelled run took \(took) to end")
        let left = Self.children().intersection(started)
        #expect(left.isEmpty, "children left after a cancelled run: \(left.sorted())")
    }

    @Test func aRouterBuildThatIsNotThereIsAClearError() async throws {
        let error = await #expect(throws: CutoverError.self) {
            try await Cutover.run(suite: .named("smoke"), router: .reference(binary: "/nonexistent/bluegreen-router"))
        }
        #expect(error?.message.contains("no bluegreen-router build (looked at /nonexistent/bluegreen-router)") == true, "\(String(describing: error))")
    }
}
