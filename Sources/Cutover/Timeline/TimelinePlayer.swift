import Foundation
import MockUpstream

/// Where the timeline's faults go: a mock upstream, or a fake in a test.
package protocol FaultTarget: Sendable {
    func addFaults(_ faults: [Fault]) async throws
    func removeFault(id: String) async throws -> Bool
    func clearFaults() async throws
}

extension MockUpstream: FaultTarget {}

/// Plays a suite's timeline on the run's clock: each step at its time, faults on the
/// mocks, actions on the router (timed from the call), phases opened; everything recorded in
/// the `TimelineState` and told to the observer. Needs no load, so it is tested with a fake
/// router and fake fault targets.
package struct TimelinePlayer: Sendable {
    package var router: any RouterDriver
    package var targets: [ServedBy: any FaultTarget]
    package var timeline: TimelineState
    package var observer: (@Sendable (RunEvent) -> Void)?

    package init(router: any RouterDriver, targets: [ServedBy: any FaultTarget], timeline: TimelineState, observer: (@Sendable (RunEvent) -> Void)? = nil) {
        self.router = router
        self.targets = targets
        self.timeline = timeline
        self.observer = observer
    }

    /// Carries out `steps` in order, each when the clock reaches its time; stops early on `stop`.
    package func play(_ steps: [TimelineStep], clock: RunClock, stop: StopSignal) async {
        for step in steps {
            await clock.sleep(untilMicros: UInt64(step.at.microseconds))
            if stop.isRaised { break }
            await carryOut(step, clock: clock)
        }
    }

    /// Adds a line to the run's log and the live display.
    package func note(atUs: UInt32, _ text: String) async {
        await timeline.append(String(format: "%8.3fs  ", Double(atUs) / 1e6) + text)
        observer?(.step(atUs: atUs, text: text))
    }

    private func carryOut(_ step: TimelineStep, clock: RunClock) async {
        let at = clock.nowMicros
        // A phase without an action starts on schedule; one with an action opens at its
        // call and is steady once it returned.
        var phaseOpened = UInt32(step.at.microseconds)
        var phaseStart = phaseOpened
        switch step.event {
        case nil:
            break
        case .fault(let target, let fault):
            var text = "fault \(fault.kind.name) (\(fault.id)) on \(target.name)"
            do {
                try await self.target(target).addFaults([fault])
                await timeline.faultStarted(target: target, fault: fault, atUs: at)
            } catch {
                text += " FAILED: \(error)"
                await timeline.harnessFailed(text)
            }
            await note(atUs: at, text)
        case .heal(let target, let id):
            var text = "heal \(target.name)" + (id.map { " (\($0))" } ?? "")
            do {
                if let id {
                    guard try await self.target(target).removeFault(id: id) else { throw StepError(description: "no fault '\(id)' is active") }
                } else {
                    try await self.target(target).clearFaults()
                }
                await timeline.healed(target: target, id: id, atUs: clock.nowMicros)
            } catch {
                text += " FAILED: \(error)"
                await timeline.harnessFailed(text)
            }
            await note(atUs: at, text)
        case .action(let action):
            let before = action.replacesProcess ? await router.greenWeight() : nil
            let called = clock.nowMicros
            let outcome = await router.perform(action)
            let returned = clock.nowMicros
            let record = ActionRecord(
                action: action, expect: step.expect, calledUs: called, returnedUs: returned, accepted: outcome.accepted, reportedWeightBefore: before,
                reportedWeightAfter: outcome.greenWeight, detail: outcome.detail)
            await timeline.acted(record)
            phaseOpened = called
            phaseStart = returned
            let weightText = outcome.greenWeight.map { ", green \($0) %" } ?? ""
            let surprise = (outcome.accepted ? ActionRecord.Expectation.accepted : .refused) == step.expect ? "" : " (expected \(step.expect.rawValue))"
            let took = String(format: "%.1f", Double(returned - called) / 1000)
            await note(
                atUs: called,
                "\(action.label) → \(outcome.accepted ? "accepted" : "REFUSED")\(surprise)\(weightText) in \(took) ms: \(outcome.detail.prefix(160))")
        }
        if let phase = step.phase {
            await timeline.phaseStarted(phase, openedUs: phaseOpened, startUs: phaseStart)
            await note(atUs: phaseStart, "phase \(phase)")
        }
    }

    private func target(_ env: ServedBy) throws -> any FaultTarget {
        guard let target = targets[env] else { throw StepError(description: "no \(env.name) upstream to inject into") }
        return target
    }

    private struct StepError: Error, CustomStringConvertible {
        var description: String
    }
}
