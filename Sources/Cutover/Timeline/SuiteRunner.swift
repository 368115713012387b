import ConfigInput
import Foundation
import MockUpstream

/// Runs one suite end to end on loopback: starts blue and green mocks and the router,
/// drives load while the timeline's actions and faults happen on the ledger's clock,
/// reconciles the ledgers, and evaluates the checks. Everything it starts, it stops.
package struct SuiteRunner: Sendable {
    package var suite: Suite
    package var seed: UInt64
    package var router: any RouterDriver
    /// Live events (progress, steps) for a display; called from background tasks.
    package var observer: (@Sendable (RunEvent) -> Void)?
    /// How often `observer` gets a progress snapshot.
    package var progressInterval: Duration = .seconds(1)
    /// Shard processes that carry the load instead of this process (`--shards N`); this
    /// process then coordinates: the timeline, the control path, the merge and the checks.
    package var shards: ShardProcesses?
    /// Shards on other machines (`--coordinator`): this process announces the run and
    /// collects their parts.
    package var remoteShards: RemoteShards?

    package init(suite: Suite, seed: UInt64? = nil, router: any RouterDriver, observer: (@Sendable (RunEvent) -> Void)? = nil) {
        self.suite = suite
        self.seed = seed ?? suite.seed
        self.router = router
        self.observer = observer
    }

    /// The environment could not be set up: the run is invalid (exit 3), not failed.
    package struct EnvironmentError: Error, CustomStringConvertible {
        package var description: String
    }

    package func run() async throws(EnvironmentError) -> SuiteRun {
        let workdir = ScratchFolders.make(for: suite.name)
        defer { ScratchFolders.remove(workdir) }

        var mocks: [ServedBy: MockUpstream] = [:]
        for env in [ServedBy.blue, .green] {
            let spec = suite.upstreams[env] ?? UpstreamSpec()
            mocks[env] = MockUpstream(
                configuration: MockConfiguration(name: env.name, seed: mockSeed(for: env), models: spec.models, apiKey: spec.apiKey, faults: spec.faults))
        }
        // The control path's own upstream: no faults, no router, the same machine.
        let control = MockUpstream(configuration: MockConfiguration(name: "control", seed: seed &+ 0xC0, models: MockConfiguration.defaultModels))
        do {
            for mock in mocks.values { try await mock.start() }
            try await control.start()
        } catch {
            for mock in mocks.values { await mock.shutdown() }
            await control.shutdown()
            throw EnvironmentError(description: "cannot start the mock upstreams: \(error)")
        }
        let routerURL: String
        do {
            routerURL = try await router.start(
                RouterEnvironment(
                    blue: mocks[.blue]!.url, green: mocks[.green]!.url, workdir: workdir, upstreamAPIKey: upstreamAPIKey,
                    listenHost: remoteShards?.listenHost ?? "127.0.0.1"))
        } catch {
            await router.stop()
            for mock in mocks.values { await mock.shutdown() }
            await control.shutdown()
            throw EnvironmentError(description: "cannot start the \(router.profile) router: \(error)")
        }
        let build = await router.build()
        observer?(.started(routerURL: routerURL, blue: mocks[.blue]!.url, green: mocks[.green]!.url))
        // A cancelled task (a test that gave up) ends the load at once; what was started
        // is still stopped below.
        let stop = StopSignal()
        let run = await withTaskCancellationHandler {
            await drive(routerURL: routerURL, mocks: mocks, control: control, build: build, workdir: workdir, stop: stop)
        } onCancel: {
            stop.raise()
        }
        await router.stop()
        for mock in mocks.values { await mock.shutdown() }
        await control.shutdown()
        return run
    }

    /// The seed of repetition `index` (0-based) of `--repeat N`: the base itself first, then
    /// seeds spread by the golden-ratio increment, so that each repetition replays alone.
    package static func seed(_ base: UInt64, repetition index: Int) -> UInt64 {
        base &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15
    }

    /// Each mock's seed, derived from the run's: its fault draws replay with the run.
    package func mockSeed(for env: ServedBy) -> UInt64 {
        seed &+ (env == .green ? 0x9E37_79B9 : 0)
    }

    /// The key the suite's upstreams require, if any: the load sends it, and the router's
    /// own health probes need it.
    var upstreamAPIKey: String? { suite.upstreams[.blue]?.apiKey ?? suite.upstreams[.green]?.apiKey }

    /// The load plan the suite asks for, aimed at `url`.
    package func plan(url: String) -> LoadPlan {
        var plan = Self.plan(suite, seed: seed, url: url)
        plan.relay = router.relay.kind
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
        if let key = suite.upstreams[.blue]?.apiKey ?? suite.upstreams[.green]?.apiKey {
            plan.headers = [("Authorization", "Bearer \(key)")]
        }
        return plan
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

    private func drive(
        routerURL: String, mocks: [ServedBy: MockUpstream], control: MockUpstream, build: RouterBuild, workdir: URL, stop: StopSignal
    ) async -> SuiteRun {
        let plan = plan(url: routerURL)
        let initialWeight = await router.greenWeight() ?? 0
        let progress = LoadProgress()
        let startedAt = Date()
        // Shard processes start from one absolute time, a moment ahead; the timeline and the
        // control path run on a clock that reads zero then.
        var shardGroups: [ProcessGroup] = []
        var shardProblems: [String] = []
        var wallStartMs = Date().timeIntervalSince1970 * 1_000
        if let shards {
            wallStartMs += Double(ShardProcesses.startDelay.milliseconds)
            do {
                shardGroups = try shards.launch(target: routerURL, seed: seed, relay: plan.relay, startAtMs: wallStartMs, folder: workdir)
            } catch {
                shardProblems.append("cannot start the shards: \(error)")
            }
            try? await StartTime.wait(untilMs: wallStartMs)
        }
        var coordinator: CoordinatorAPI?
        if let remote = remoteShards {
            wallStartMs += Double(remote.startDelay.milliseconds)
            let api = CoordinatorAPI(host: remote.listenHost)
            do {
                let port = try await api.start(port: remote.listenPort)
                api.announce(
                    RunAnnouncement(
                        suite: suite.name, seed: seed, runID: plan.runID, schedule: plan.scheduleDigest, shards: remote.count, startAtMs: wallStartMs,
                        target: remote.advertised(routerURL), nowMs: 0, relay: plan.relay))
                coordinator = api
                observer?(.step(atUs: 0, text: "coordinator at http://\(remote.listenHost):\(port)/run: \(remote.count) shards start in \(DurationText.format(remote.startDelay))"))
            } catch {
                shardProblems.append("cannot serve the coordinator on \(remote.listenHost):\(remote.listenPort): \(error)")
            }
            try? await StartTime.wait(untilMs: wallStartMs)
        }
        let clock = RunClock(wallStartMs: wallStartMs)
        let timeline = TimelineState(initialWeight: initialWeight, staticFaults: mocks.mapValues { $0.configuration.faults })

        let groups = shardGroups
        async let loadResult = carryLoad(plan, clock: clock, progress: progress, stop: stop, groups: groups, workdir: workdir, timeline: timeline)
        async let controlResult = LoadGenerator.run(controlPlan(url: control.url), clock: clock, stop: stop)
        let reporter = Task { await reportProgress(progress, clock: clock, timeline: timeline) }
        for step in suite.timeline {
            await clock.sleep(untilMicros: UInt64(step.at.microseconds))
            if stop.isRaised { break }
            await carryOut(step, clock: clock, mocks: mocks, timeline: timeline)
        }
        let (result, lostShards) = await loadResult
        shardProblems += lostShards
        await coordinator?.shutdown()
        let controlLedger = await controlResult.ledger
        reporter.cancel()
        observer?(.loadFinished)

        // Let the mocks finish recording the last responses before their ledgers are read.
        for mock in mocks.values { await mock.ledger.waitUntilSettled(timeout: .seconds(2)) }
        let endUs = max(clock.nowMicros, UInt32(suite.duration.microseconds))
        var upstream: [ServedBy: [LedgerEntry]] = [:]
        var dropped: [ServedBy: UInt64] = [:]
        for (env, mock) in mocks {
            upstream[env] = mock.ledger.entries()
            dropped[env] = mock.ledger.dropped
            // A mock that fell behind cannot vouch for what the router seemed to do meanwhile.
            if let problem = mock.keepingUp.problem { shardProblems.append(problem) }
        }
        let history = RunHistory(
            client: result.ledger, upstream: upstream, phases: await timeline.phaseWindows(endUs: endUs), actions: await timeline.actions,
            faults: await timeline.faultWindows(endUs: endUs), harnessFailures: await timeline.harnessFailures, upstreamLedgerDropped: dropped, control: controlLedger, plan: plan,
            wallStartMs: wallStartMs, relay: router.relay)
        if let remote = remoteShards {
            // What only the coordinator saw, beside the shards' parts: `cutover merge` can judge again from them.
            let part = CoordinatorPart(
                suite: suite, suiteFile: remote.suiteFile, seed: seed, maxClockSkewMs: remote.maxClockSkewMs, build: build, history: history,
                log: await timeline.log, startedAt: startedAt, problems: shardProblems)
            do {
                try part.write(to: remote.partsFolder.appendingPathComponent(CoordinatorPart.fileName))
            } catch {
                shardProblems.append("cannot write the coordinator's part: \(error.localizedDescription)")
            }
        }
        let router = router
        return Self.judge(
            suite: suite, seed: seed, build: build, history: history, log: await timeline.log, startedAt: startedAt, elapsedSeconds: result.elapsedSeconds,
            problems: shardProblems, explain: { router.knownBehaviour(behind: $0).map { ". Known \(router.profile) behaviour: \($0)" } })
    }

    /// Judges a run's history: reconciles it, evaluates the suite's checks, and says whether
    /// the run could vouch for anything. `explain` adds a router's published behaviour to a
    /// failure it explains.
    package static func judge(
        suite: Suite, seed: UInt64, build: RouterBuild, history: RunHistory, log: [String], startedAt: Date, elapsedSeconds: Double, problems: [String],
        explain: (CheckResult) -> String? = { _ in nil }
    ) -> SuiteRun {
        let reconciled = ReconciledRun(history)
        let checks = CheckCatalog.evaluate(suite.checks, on: reconciled).map { result in
            guard result.status == .fail, let behaviour = explain(result) else { return result }
            var explained = result
            explained.summary += behaviour
            return explained
        }
        // The run cannot vouch for anything when the generator or the harness failed it.
        var invalid: [String] = []
        if let validity = checks.first(where: { $0.name == "GeneratorValid" }), validity.status == .fail,
            (validity.evidence as? GeneratorValid.Evidence)?.generatorAtFault ?? true
        {
            invalid.append("the load generator could not deliver the plan: \(validity.summary)")
        }
        invalid += history.harnessFailures.map { "the harness could not carry out a step: \($0)" }
        invalid += problems
        invalid += reconciled.evidenceGaps
        return SuiteRun(
            suite: suite, seed: seed, build: build, reconciled: reconciled,
            summary: LoadSummary(ledger: reconciled.ledger, elapsedSeconds: elapsedSeconds), checks: checks, log: log,
            startedAt: startedAt, elapsedSeconds: elapsedSeconds, harnessProblems: invalid)
    }

    /// The load: this process's generator, or the shards' merged parts.
    private func carryLoad(
        _ plan: LoadPlan, clock: RunClock, progress: LoadProgress, stop: StopSignal, groups: [ProcessGroup], workdir: URL, timeline: TimelineState
    ) async -> (LoadResult, problems: [String]) {
        if let remote = remoteShards {
            // Parts come once the last requests ended: the run, their timeout, and a margin.
            let deadline = ContinuousClock.now + suite.duration + plan.requestTimeout + .seconds(30)
            let (ledger, elapsed, problems, offsets) = await remote.collect(deadline: deadline, stop: stop)
            await note(atUs: clock.nowMicros, offsets, timeline)
            return (LoadResult(plan: plan, ledger: ledger, startedAt: Date(), elapsedSeconds: max(elapsed, Double(clock.nowMicros) / 1e6)), problems)
        }
        guard let shards else { return (await LoadGenerator.run(plan, clock: clock, progress: progress, stop: stop), []) }
        let started = Date()
        let (ledger, elapsed, problems) = await shards.collect(groups, folder: workdir, stop: stop)
        return (LoadResult(plan: plan, ledger: ledger, startedAt: started, elapsedSeconds: max(elapsed, Double(clock.nowMicros) / 1e6)), problems)
    }

    private func carryOut(_ step: TimelineStep, clock: RunClock, mocks: [ServedBy: MockUpstream], timeline: TimelineState) async {
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
                try await mocks[target]!.addFaults([fault])
                await timeline.faultStarted(target: target, fault: fault, atUs: at)
            } catch {
                text += " FAILED: \(error)"
                await timeline.harnessFailed(text)
            }
            await note(atUs: at, text, timeline)
        case .heal(let target, let id):
            var text = "heal \(target.name)" + (id.map { " (\($0))" } ?? "")
            do {
                if let id {
                    guard try await mocks[target]!.removeFault(id: id) else { throw HealError(description: "no fault '\(id)' is active") }
                } else {
                    try await mocks[target]!.clearFaults()
                }
                await timeline.healed(target: target, id: id, atUs: clock.nowMicros)
            } catch {
                text += " FAILED: \(error)"
                await timeline.harnessFailed(text)
            }
            await note(atUs: at, text, timeline)
        case .action(let action):
            let before = action == .restart ? await router.greenWeight() : nil
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
            await note(
                atUs: called,
                "\(action.label) → \(outcome.accepted ? "accepted" : "REFUSED")\(surprise)\(weightText) in \(String(format: "%.1f", Double(returned - called) / 1000)) ms: \(outcome.detail.prefix(160))",
                timeline)
        }
        if let phase = step.phase {
            await timeline.phaseStarted(phase, openedUs: phaseOpened, startUs: phaseStart)
            await note(atUs: phaseStart, "phase \(phase)", timeline)
        }
    }

    private struct HealError: Error, CustomStringConvertible {
        var description: String
    }

    private func note(atUs: UInt32, _ text: String, _ timeline: TimelineState) async {
        await timeline.append(String(format: "%8.3fs  ", Double(atUs) / 1e6) + text)
        observer?(.step(atUs: atUs, text: text))
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
