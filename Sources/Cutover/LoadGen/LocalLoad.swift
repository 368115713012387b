import Foundation

/// The load carried by this process's own generator: what `cutover run` does without shards.
package struct LocalLoad: LoadCarrier {
    package init() {}

    package func start(_ plan: LoadPlan, of suite: Suite, routerURL: String, workdir: URL) async -> LoadStart<Void> {
        LoadStart(started: (), wallStartMs: StartTime.nowMs)
    }

    package func carry(_ plan: LoadPlan, _ started: Void, clock: RunClock, progress: LoadProgress, stop: StopSignal) async -> CarriedLoad {
        let result = await LoadGenerator.run(plan, clock: clock, progress: progress, stop: stop)
        return CarriedLoad(ledger: result.ledger, elapsedSeconds: result.elapsedSeconds, notes: result.http2Note.map { [$0] } ?? [])
    }
}
