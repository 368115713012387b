import ConfigInput
import Foundation

/// A suite's load carried by N shards anywhere (`cutover run SUITE --coordinator --shards N`,
/// one shard per machine or pod): this process serves the run's announcement on `listen`,
/// carries out the timeline, and collects the parts the shards write to a shared folder.
/// A shard that sends no part, or whose clock is further off than the bound, makes the
/// run invalid, naming it.
package struct RemoteShards: Sendable {
    package var count: Int
    /// The suite file, named in the coordinator's part so that a merge can load it again.
    package var suiteFile: String
    /// Where the shards write `part-K` (a shared volume).
    package var partsFolder: URL
    /// Where the coordinator and the router listen (0.0.0.0 for shards on other machines).
    package var listenHost: String
    package var listenPort: Int
    /// The host shards reach this machine at (the pod's IP): the router's URL they get.
    package var advertiseHost: String
    /// Time for the shards to find the announcement before the common start.
    package var startDelay: Duration
    /// The largest clock offset against the coordinator a shard may have, ms.
    package var maxClockSkewMs: Double

    package init(
        count: Int, suiteFile: String, partsFolder: URL, listenHost: String, listenPort: Int, advertiseHost: String, startDelay: Duration,
        maxClockSkewMs: Double
    ) {
        self.count = count
        self.suiteFile = suiteFile
        self.partsFolder = partsFolder
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.advertiseHost = advertiseHost
        self.startDelay = startDelay
        self.maxClockSkewMs = maxClockSkewMs
    }

    /// The router's URL as shards on other machines reach it.
    package func advertised(_ routerURL: String) -> String {
        guard let url = URLComponents(string: routerURL), let port = url.port else { return routerURL }
        return "http://\(advertiseHost):\(port)"
    }

    /// Each part's measured clock offset against the coordinator, for the run's log.
    package static func offsets(_ parts: [LedgerPart], bound: Double) -> String {
        "clock offsets against the coordinator (bound \(String(format: "%.0f", bound)) ms): "
            + parts.sorted { $0.header.shard < $1.header.shard }.map { part in
                "shard \(part.header.shard) " + (part.header.clockOffsetMs.map { String(format: "%.1f ms", $0) } ?? "not measured")
            }.joined(separator: ", ")
    }

    /// The part file of shard `index`.
    package func partFile(_ index: Int) -> URL { partsFolder.appendingPathComponent("part-\(index)") }

    /// Waits until every part is there (or `deadline`, or `stop`), then joins them.
    package func collect(deadline: ContinuousClock.Instant, stop: StopSignal) async -> CarriedLoad {
        while (0..<count).contains(where: { !FileManager.default.fileExists(atPath: partFile($0).path) }), ContinuousClock.now < deadline, !stop.isRaised {
            try? await Task.sleep(for: .milliseconds(100))
        }
        var problems: [String] = []
        var parts: [(file: String, part: LedgerPart)] = []
        for index in 0..<count {
            let file = partFile(index)
            guard FileManager.default.fileExists(atPath: file.path) else {
                problems.append("shard \(index) of \(count) sent no ledger part to \(partsFolder.path) in time (it died, or never started)")
                continue
            }
            do {
                parts.append((file.lastPathComponent, try LedgerPart.read(file)))
            } catch {
                problems.append("shard \(index) of \(count): \(error.description)")
            }
        }
        problems += Self.clockProblems(parts.map(\.part), bound: maxClockSkewMs)
        let joined = PartMerge.salvage(parts, requireEveryShard: parts.count == count)
        if let problem = joined.problem { problems.append(problem) }
        return CarriedLoad(
            ledger: joined.ledger, elapsedSeconds: joined.elapsedSeconds, problems: problems, notes: [Self.offsets(parts.map(\.part), bound: maxClockSkewMs)])
    }

    /// The shards whose clock was not measured, or is further off the coordinator's than
    /// `bound` ms: each makes the run invalid.
    package static func clockProblems(_ parts: [LedgerPart], bound: Double) -> [String] {
        var problems: [String] = []
        for part in parts {
            let name = "shard \(part.header.shard) of \(part.header.shards)"
            guard let offset = part.header.clockOffsetMs else {
                problems.append("\(name) measured no clock offset against the coordinator")
                continue
            }
            if abs(offset) > bound {
                let measured = String(format: "%.1f", offset)
                let limit = String(format: "%.0f", bound)
                problems.append("\(name): its clock is \(measured) ms off the coordinator's (bound \(limit) ms)")
            }
        }
        return problems
    }
}

extension RemoteShards: LoadCarrier {
    /// Serves the run's announcement (the router's URL as the shards reach it, the common
    /// start, this clock) until the parts are in; nil when it could not listen.
    package func start(_ plan: LoadPlan, of suite: Suite, routerURL: String, workdir: URL) async -> LoadStart<CoordinatorAPI?> {
        let wallStartMs = StartTime.nowMs + Double(startDelay.milliseconds)
        let api = CoordinatorAPI(host: listenHost)
        do {
            let port = try await api.start(port: listenPort)
            api.announce(
                RunAnnouncement(
                    suite: suite.name, seed: plan.seed, runID: plan.runID, schedule: plan.scheduleDigest, shards: count, startAtMs: wallStartMs,
                    target: advertised(routerURL), nowMs: 0, relay: plan.relay,
                    loadHeaders: plan.headers.isEmpty ? nil : Dictionary(plan.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }),
                    http2: plan.http2 ? nil : false))
            return LoadStart(
                started: api, wallStartMs: wallStartMs,
                notes: ["coordinator at http://\(listenHost):\(port)/run: \(count) shards start in \(DurationText.format(startDelay))"])
        } catch {
            await api.shutdown()
            return LoadStart(started: nil, wallStartMs: wallStartMs, problems: ["cannot serve the coordinator on \(listenHost):\(listenPort): \(error)"])
        }
    }

    /// Waits for the parts: they come once the last requests ended (the run, their timeout
    /// and a margin).
    package func carry(_ plan: LoadPlan, _ api: CoordinatorAPI?, clock: RunClock, progress: LoadProgress, stop: StopSignal) async -> CarriedLoad {
        var carried = await collect(deadline: .now + plan.duration + plan.requestTimeout + .seconds(30), stop: stop)
        await api?.shutdown()
        carried.elapsedSeconds = max(carried.elapsedSeconds, Double(clock.nowMicros) / 1e6)
        return carried
    }

    /// Writes what only the coordinator saw beside the parts: `cutover merge` judges again from them.
    package func finish(_ run: UnjudgedRun) -> [String] {
        let part = CoordinatorPart(
            suite: run.suite, suiteFile: suiteFile, seed: run.seed, maxClockSkewMs: maxClockSkewMs, build: run.build, history: run.history, log: run.log,
            startedAt: run.startedAt, problems: run.problems)
        do {
            try part.write(to: partsFolder.appendingPathComponent(CoordinatorPart.fileName))
            return []
        } catch {
            return ["cannot write the coordinator's part: \(error.localizedDescription)"]
        }
    }
}
