import Foundation

/// Who carries a suite's load: this process's generator (`LocalLoad`), shard processes on
/// this machine (`ShardProcesses`, `cutover run --shards N`) or shards anywhere
/// (`RemoteShards`, `--coordinator`). The runner starts the carrier, plays the timeline on
/// the run's clock meanwhile, and takes one result, whichever carried it: a new way to
/// carry load is one new conforming type.
package protocol LoadCarrier: Sendable {
    /// What the carrier keeps from its start to its end (its processes, its API).
    associatedtype Started: Sendable

    /// The address the router must listen on for this carrier's load to reach it.
    var listenHost: String { get }

    /// Gets ready to carry `suite`'s `plan` against `routerURL` (launches shards, announces the run)
    /// and says when the run's clock is to read zero (Unix ms): now for this process, a
    /// moment ahead for shards, which start together.
    func start(_ plan: LoadPlan, of suite: Suite, routerURL: String, workdir: URL) async -> LoadStart<Started>

    /// Carries the load until its end (or `stop`) and returns the client ledger.
    func carry(_ plan: LoadPlan, _ started: Started, clock: RunClock, progress: LoadProgress, stop: StopSignal) async -> CarriedLoad

    /// Keeps what only this process saw once the run is over (a coordinator's part, for
    /// `cutover merge`); says what went wrong doing so.
    func finish(_ run: UnjudgedRun) -> [String]
}

extension LoadCarrier {
    package var listenHost: String { "127.0.0.1" }
    package func finish(_ run: UnjudgedRun) -> [String] { [] }
}

/// A carrier that is ready: when the run's clock reads zero, and what went wrong getting there.
package struct LoadStart<Started: Sendable>: Sendable {
    package var started: Started
    /// Unix ms at which the run's clock reads zero.
    package var wallStartMs: Double
    /// For the live display: what the carrier did to start (a coordinator's address).
    package var notes: [String] = []
    /// What stops the run vouching for anything (a shard that did not start).
    package var problems: [String] = []
}

/// The load as it was carried, whoever carried it.
package struct CarriedLoad: Sendable {
    package var ledger: ClientLedger
    package var elapsedSeconds: Double
    /// What makes the run invalid: a shard that died, a part that is not of the run.
    package var problems: [String] = []
    /// What the run's log should show (each shard's clock offset).
    package var notes: [String] = []
}
