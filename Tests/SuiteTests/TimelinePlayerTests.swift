import Foundation
import Synchronization
import Testing

@testable import Cutover
@testable import MockUpstream

/// The timeline player alone: a fake router and fake fault targets, no load, no sockets.
@Suite("Timeline player")
struct TimelinePlayerTests {
    /// A router that answers every action at once (or refuses the ones it is told to) and
    /// remembers what it was asked.
    final class FakeRouter: RouterDriver, Sendable {
        let profile = "fake"
        let refuses: Set<String>
        let asked = Mutex<[String]>([])
        let weight = Mutex(0)
        /// How long an action blocks before it takes effect, as a slow router's call does.
        let blocks: Duration

        init(refuses: Set<String> = [], blocks: Duration = .zero) {
            self.refuses = refuses
            self.blocks = blocks
        }

        func start(_ environment: RouterEnvironment) async throws -> String { "http://127.0.0.1:1" }
        func perform(_ action: RouterAction) async -> ActionOutcome {
            asked.withLock { $0.append(action.label) }
            try? await Task.sleep(for: blocks)
            guard !refuses.contains(action.name) else { return ActionOutcome(accepted: false, greenWeight: weight.withLock { $0 }, detail: "no") }
            let green = weight.withLock { weight in
                if let after = action.intendedGreenWeight { weight = after }
                return weight
            }
            return ActionOutcome(accepted: true, greenWeight: green, detail: "done")
        }
        func greenWeight() async -> Int? { weight.withLock { $0 } }
        func build() async -> RouterBuild { RouterBuild(profile: "fake", version: "0", sha256: "", executable: "") }
        func stop() async {}
    }

    /// A mock's fault API that records what it was given, and fails when told to.
    final class FakeTarget: FaultTarget, Sendable {
        let faults = Mutex<[String]>([])
        let failing: Bool

        init(failing: Bool = false) { self.failing = failing }

        struct Refused: Error {}

        func addFaults(_ faults: [Fault]) async throws {
            if failing { throw Refused() }
            self.faults.withLock { $0 += faults.map(\.id) }
        }
        func removeFault(id: String) async throws -> Bool {
            faults.withLock { list in
                guard let index = list.firstIndex(of: id) else { return false }
                list.remove(at: index)
                return true
            }
        }
        func clearFaults() async throws { faults.withLock { $0 = [] } }
    }

    static func step(_ ms: Int, _ event: TimelineStep.Event?, phase: String? = nil, expect: ActionRecord.Expectation = .accepted) -> TimelineStep {
        TimelineStep(at: .milliseconds(ms), phase: phase, event: event, expect: expect)
    }

    @Test func stepsHappenInOrderOnTheClockAndOpenTheirPhases() async throws {
        let router = FakeRouter()
        let green = FakeTarget()
        let timeline = TimelineState(initialWeight: 0, staticFaults: [:])
        let player = TimelinePlayer(router: router, targets: [.blue: FakeTarget(), .green: green], timeline: timeline)
        let clock = RunClock()
        await player.play(
            [
                Self.step(0, nil, phase: "baseline"),
                Self.step(40, .action(.canary(percent: 10)), phase: "canary"),
                Self.step(80, .fault(target: .green, Fault(id: "down", kind: .outage(.refuse)))),
                Self.step(120, .heal(target: .green, id: "down")),
                Self.step(160, .action(.promote), phase: "promoted"),
            ], clock: clock, stop: StopSignal())
        #expect(router.asked.withLock { $0 } == ["canary 10 %", "promote"])
        let actions = await timeline.actions
        #expect(actions.map(\.accepted) == [true, true])
        #expect(actions[0].calledUs >= 40_000 && actions[1].calledUs >= 160_000, "\(actions.map(\.calledUs))")
        let phases = await timeline.phaseWindows(endUs: 60_000_000)
        #expect(phases.map(\.name) == ["baseline", "canary", "promoted"])
        #expect(phases.map(\.greenWeight) == [0, 10, 100])
        // Healed: the window ends at the heal, not at the end of the run.
        let faults = await timeline.faultWindows(endUs: 60_000_000)
        #expect(faults.count == 1 && faults[0].startUs >= 80_000 && faults[0].endUs >= 120_000 && faults[0].endUs < 60_000_000, "\(faults)")
        #expect(green.faults.withLock { $0 }.isEmpty)
        #expect(await timeline.harnessFailures.isEmpty)
        #expect(await timeline.log.count == 7)
    }

    @Test func anActionIsTimedFromItsCallAndItsPhaseIsSteadyOnceItReturned() async throws {
        let router = FakeRouter(blocks: .milliseconds(100))
        let timeline = TimelineState(initialWeight: 0, staticFaults: [:])
        let player = TimelinePlayer(router: router, targets: [:], timeline: timeline)
        await player.play([Self.step(10, .action(.canary(percent: 50)), phase: "half")], clock: RunClock(), stop: StopSignal())
        let action = try #require(await timeline.actions.first)
        #expect(action.returnedUs - action.calledUs >= 100_000)
        let phase = try #require(await timeline.phaseWindows(endUs: 1_000_000).first)
        #expect(phase.openedUs == action.calledUs && phase.startUs == action.returnedUs)
    }

    @Test func aRefusedActionAndAFaultTheMockRefusedAreRecordedAsSuch() async throws {
        let router = FakeRouter(refuses: ["rollback"])
        let timeline = TimelineState(initialWeight: 0, staticFaults: [:])
        let player = TimelinePlayer(router: router, targets: [.green: FakeTarget(failing: true)], timeline: timeline)
        await player.play(
            [
                Self.step(0, .action(.rollback), expect: .accepted),
                Self.step(10, .fault(target: .green, Fault(id: "slow", kind: .latency(.fixed(ms: 5))))),
                Self.step(20, .heal(target: .blue, id: nil)),
            ], clock: RunClock(), stop: StopSignal())
        #expect(await timeline.actions.map(\.accepted) == [false])
        let failures = await timeline.harnessFailures
        #expect(failures.count == 2, "\(failures)")
        #expect(failures.first?.contains("fault latency (slow) on green FAILED") == true)
        #expect(failures.last?.contains("no blue upstream") == true)
        #expect(await timeline.log.first?.contains("REFUSED (expected accepted)") == true)
    }

    @Test func aRaisedStopEndsThePlayBeforeTheNextStep() async throws {
        let router = FakeRouter()
        let timeline = TimelineState(initialWeight: 0, staticFaults: [:])
        let player = TimelinePlayer(router: router, targets: [:], timeline: timeline)
        let stop = StopSignal()
        stop.raise()
        await player.play([Self.step(0, .action(.promote)), Self.step(10, .action(.rollback))], clock: RunClock(), stop: stop)
        #expect(router.asked.withLock { $0 }.isEmpty)
    }
}
