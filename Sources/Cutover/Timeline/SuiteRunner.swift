import ConfigInput
import Foundation
import MockUpstream

/// Runs one suite end to end: a short composition of its parts. The run environment (the
/// mocks, the control path and the router) starts; a load carrier carries the load while the
/// timeline player carries out the steps on the same clock; the environment stops, whatever
/// happened; and the one judge reconciles the ledgers and evaluates the checks.
package struct SuiteRunner: Sendable {
    package var suite: Suite
    package var seed: UInt64
    package var router: any RouterDriver
    /// Live events (progress, steps) for a display; called from background tasks.
    package var observer: (@Sendable (RunEvent) -> Void)?
    /// How often `observer` gets a progress snapshot.
    package var progressInterval: Duration = .seconds(1)
    /// Who carries the load: this process (the default), shard processes on this machine
    /// (`--shards N`) or shards anywhere (`--coordinator`); this process then coordinates.
    package var load: any LoadCarrier = LocalLoad()

    package init(suite: Suite, seed: UInt64? = nil, router: any RouterDriver, observer: (@Sendable (RunEvent) -> Void)? = nil) {
        self.suite = suite
        self.seed = seed ?? suite.seed
        self.router = router
        self.observer = observer
    }

    /// The environment could not be set up: the run is invalid (exit 3), not failed.
    package struct EnvironmentError: Error, CustomStringConvertible {
        /// What could not be started.
        package enum Part: Sendable, Equatable {
            case mocks
            /// The router, by its profile's name.
            case router(profile: String)
        }

        package var part: Part
        /// Why, in the words of what failed (a `RouterError`, a `LaunchError`, the mock's bind).
        package var cause: String

        package init(_ part: Part, cause: String) {
            self.part = part
            self.cause = cause
        }

        package var description: String {
            switch part {
            case .mocks: "cannot start the mock upstreams: \(cause)"
            case .router(let profile): "cannot start the \(profile) router: \(cause)"
            }
        }
    }

    package func run() async throws(EnvironmentError) -> SuiteRun {
        let workdir = ScratchFolders.make(for: suite.name)
        defer { ScratchFolders.remove(workdir) }
        let environment = try await RunEnvironment.start(suite: suite, seed: seed, router: router, workdir: workdir, listenHost: load.listenHost)
        observer?(.started(routerURL: environment.routerURL, blue: environment.mocks[.blue]!.url, green: environment.mocks[.green]!.url))
        // A cancelled task (a test that gave up) ends the load at once; the environment is
        // still stopped below.
        let stop = StopSignal()
        let run = await withTaskCancellationHandler {
            await drive(load, in: environment, workdir: workdir, stop: stop)
        } onCancel: {
            stop.raise()
        }
        await environment.stop()
        return run
    }

    /// The seed of repetition `index` (0-based) of `--repeat N`: the base itself first, then
    /// seeds spread by the golden-ratio increment, so that each repetition replays alone.
    package static func seed(_ base: UInt64, repetition index: Int) -> UInt64 {
        base &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15
    }

    /// Each mock's seed, derived from the run's: its fault draws replay with the run.
    package func mockSeed(for env: ServedBy) -> UInt64 { Self.mockSeed(seed, for: env) }

    static func mockSeed(_ seed: UInt64, for env: ServedBy) -> UInt64 {
        seed &+ (env == .green ? 0x9E37_79B9 : 0)
    }

    /// The load plan the suite asks for, aimed at `url`.
    package func plan(url: String) -> LoadPlan {
        var plan = Self.plan(suite, seed: seed, url: url)
        plan.relay = router.relay.kind
        plan.headers = Self.merge(plan.headers, router.loadHeaders)
        plan.offerHTTP2(router.offersHTTP2)
        return plan
    }

    /// The load plan of `suite` at `seed`: what a shard process carries a stripe of.
    package static func plan(_ suite: Suite, seed: UInt64, url: String) -> LoadPlan {
        var plan = LoadPlan(url: url, model: suite.load.model, duration: suite.duration)
        plan.sessions = suite.load.sessions
        plan.mix = suite.load.mix
        plan.models = suite.load.models
        plan.requestTimeout = suite.load.timeout
        plan.connectTimeout = suite.load.connectTimeout
        plan.maxInFlight = suite.load.maxInFlight
        plan.arrival = suite.load.arrival
        plan.thinkTimeMs = suite.load.thinkTimeMs
        plan.turns = suite.load.turns
        plan.cancellation = suite.load.cancellation
        plan.seed = seed
        plan.runID = "\(suite.name)-\(seed)"
        if let key = suite.upstreamAPIKey {
            plan.headers = [("Authorization", "Bearer \(key)")]
        }
        return plan
    }

    /// The load's headers with the router profile's in place of same-named ones.
    package static func merge(_ headers: [(name: String, value: String)], _ overrides: [(name: String, value: String)]) -> [(name: String, value: String)] {
        headers.filter { header in !overrides.contains { $0.name.lowercased() == header.name.lowercased() } } + overrides
    }

    /// The control path's load: `GET /v1/models` at `controlRate`, on a thread of its own,
    /// straight to the control mock.
    func controlPlan(url: String) -> LoadPlan {
        var plan = LoadPlan(url: url, model: .open(rate: Self.controlRate), duration: suite.duration)
        plan.sessions = 1
        plan.mix = [LoadPlan.MixEntry(endpoint: .models, weight: 1)]
        plan.seed = seed
        plan.runID = "\(suite.name)-\(seed)-control"
        return plan
    }

    /// Probes a second on the control path: enough for a p90 per second, light beside the load.
    static let controlRate = 50.0

    /// Carries the load and plays the timeline on one clock, then judges.
    private func drive<Carrier: LoadCarrier>(_ carrier: Carrier, in environment: RunEnvironment, workdir: URL, stop: StopSignal) async -> SuiteRun {
        let plan = plan(url: environment.routerURL)
        let initialWeight = await router.greenWeight() ?? 0
        let progress = LoadProgress()
        let startedAt = Date()
        // The carrier says when the run's clock reads zero: at once, or a moment ahead for
        // shards that start together.
        let start = await carrier.start(plan, of: suite, routerURL: environment.routerURL, workdir: workdir)
        for note in start.notes { observer?(.step(atUs: 0, text: note)) }
        try? await StartTime.wait(untilMs: start.wallStartMs)
        let clock = RunClock(wallStartMs: start.wallStartMs)
        let timeline = TimelineState(initialWeight: initialWeight, staticFaults: environment.mocks.mapValues { $0.configuration.faults })
        let player = TimelinePlayer(router: router, targets: environment.mocks, timeline: timeline, observer: observer)
        let h2Entries = suite.load.mix.filter { $0.client == .http2 }.count
        if !plan.http2, h2Entries > 0 {
            await player.note(atUs: 0, "\(h2Entries) h2 mix entries sent as kept-alive HTTP/1.1: the profile \(router.profile) does not declare http2")
        }

        async let carried = carrier.carry(plan, start.started, clock: clock, progress: progress, stop: stop)
        async let controlResult = LoadGenerator.run(controlPlan(url: environment.control.url), clock: clock, stop: stop)
        let reporter = Task { await reportProgress(progress, clock: clock, timeline: timeline) }
        await player.play(suite.timeline, clock: clock, stop: stop)
        let load = await carried
        for note in load.notes { await player.note(atUs: clock.nowMicros, note) }
        let controlLedger = await controlResult.ledger
        reporter.cancel()
        observer?(.loadFinished)

        // Let the mocks finish recording the last responses before their ledgers are read.
        for mock in environment.mocks.values { await mock.ledger.waitUntilSettled(timeout: .seconds(2)) }
        let endUs = max(clock.nowMicros, UInt32(suite.duration.microseconds))
        var problems = start.problems + load.problems
        var upstream: [ServedBy: [LedgerEntry]] = [:]
        var dropped: [ServedBy: UInt64] = [:]
        for (env, mock) in environment.mocks {
            upstream[env] = mock.ledger.entries()
            dropped[env] = mock.ledger.dropped
            // A mock that fell behind cannot vouch for what the router seemed to do meanwhile.
            if let problem = mock.keepingUp.problem { problems.append(problem) }
        }
        let history = RunHistory(
            client: load.ledger, upstream: upstream, phases: await timeline.phaseWindows(endUs: endUs), actions: await timeline.actions,
            faults: await timeline.faultWindows(endUs: endUs), harnessFailures: await timeline.harnessFailures, upstreamLedgerDropped: dropped,
            control: controlLedger, plan: plan, wallStartMs: start.wallStartMs, relay: router.relay,
            gate: router.gate, weightSource: router.weightSource)
        var run = UnjudgedRun(
            suite: suite, seed: seed, build: environment.build, history: history, log: await timeline.log, startedAt: startedAt,
            elapsedSeconds: load.elapsedSeconds, problems: problems)
        run.problems += carrier.finish(run)
        let router = router
        return RunJudge.judge(run, explain: { router.knownBehaviour(behind: $0).map { ". Known \(router.routerName) behaviour: \($0)" } })
    }

    private func reportProgress(_ progress: LoadProgress, clock: RunClock, timeline: TimelineState) async {
        guard let observer else { return }
        var lastSent = 0
        var last = ContinuousClock.now
        let duration = Double(suite.duration.microseconds) / 1e6
        while !Task.isCancelled {
            try? await Task.sleep(for: progressInterval)
            let now = ContinuousClock.now
            let sent = progress.sent
            let seconds = Double((now - last).microseconds) / 1e6
            observer(
                .progress(
                    ProgressSnapshot(
                        elapsedSeconds: Double(clock.nowMicros) / 1e6, durationSeconds: duration, phase: await timeline.currentPhase,
                        rate: seconds > 0 ? Double(sent - lastSent) / seconds : 0, ok: progress.ok, dropped: progress.dropped,
                        greenShare: sent > 0 ? Double(progress.green) / Double(sent) : 0)))
            lastSent = sent
            last = now
        }
    }
}
