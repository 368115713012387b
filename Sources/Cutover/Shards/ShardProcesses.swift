import Foundation

/// A suite's load carried by N shard processes on this machine (`cutover run --shards N`):
/// each runs `cutover run SUITE --shard K/N` against the router, from one absolute start,
/// and writes its ledger part; the coordinator, which carries out the timeline, merges the
/// parts. A shard that dies leaves no part, and the run is then invalid, naming it.
package struct ShardProcesses: Sendable {
    package var count: Int
    /// The `cutover` executable the shards run.
    package var executable: URL
    /// The suite file every shard loads: the same schedule, from the same seed.
    package var suiteFile: String

    /// Time for the shard processes to start and read the suite before the common start.
    package static let startDelay: Duration = .milliseconds(1_500)

    package init(count: Int, executable: URL, suiteFile: String) {
        self.count = count
        self.executable = executable
        self.suiteFile = suiteFile
    }

    /// Starts every shard; each waits for `startAtMs`.
    package func launch(
        target: String, seed: UInt64, relay: RelayKind, loadHeaders: [(name: String, value: String)] = [], http2: Bool = true, startAtMs: Double,
        folder: URL
    ) throws -> [ProcessGroup] {
        try (0..<count).map { index in
            let arguments =
                [
                    executable.path, "run", suiteFile, "--seed", String(seed), "--shard", "\(index)/\(count)", "--target", target, "--start-at",
                    String(format: "%.3f", startAtMs / 1_000), "--part", partFile(index, in: folder).path, "--relay", relay.rawValue,
                ] + loadHeaders.flatMap { ["--load-header", "\($0.name): \($0.value)"] } + (http2 ? [] : ["--no-http2"])
            return try ProcessGroup.launch(
                "exec " + arguments.map(Self.quoted).joined(separator: " "), in: folder, logFile: folder.appendingPathComponent("shard-\(index).log"))
        }
    }

    /// Waits for the shards (stopping them on `stop`), then joins their parts. A shard that
    /// failed or left no part is named in `problems`; the records of the others are kept.
    package func collect(_ groups: [ProcessGroup], folder: URL, stop: StopSignal) async -> CarriedLoad {
        for group in groups { await group.waitForEnd(stopWhen: { stop.isRaised }) }
        var problems: [String] = []
        var parts: [(file: String, part: LedgerPart)] = []
        for (index, group) in groups.enumerated() {
            await group.stop()
            let file = partFile(index, in: folder)
            let hasPart = FileManager.default.fileExists(atPath: file.path)
            if let status = group.exitStatus, status != 0 || !hasPart {
                let tail = group.logTail.trimmingCharacters(in: .whitespacesAndNewlines).suffix(300)
                problems.append(
                    "shard \(index) of \(count) ended with status \(status)" + (hasPart ? "" : " and left no ledger part (killed?)")
                        + (tail.isEmpty ? "" : ": \(tail)"))
            }
            guard hasPart else { continue }
            do {
                parts.append((file.lastPathComponent, try LedgerPart.read(file)))
            } catch {
                problems.append("shard \(index) of \(count): \(error.description)")
            }
        }
        let joined = PartMerge.salvage(parts, requireEveryShard: problems.isEmpty)
        if let problem = joined.problem { problems.append(problem) }
        return CarriedLoad(ledger: joined.ledger, elapsedSeconds: joined.elapsedSeconds, problems: problems)
    }

    private func partFile(_ index: Int, in folder: URL) -> URL { folder.appendingPathComponent("part-\(index)") }

    private static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

extension ShardProcesses: LoadCarrier {
    /// The shard processes and the folder their parts go to.
    package struct Launched: Sendable {
        var groups: [ProcessGroup]
        var folder: URL
    }

    /// Launches every shard; each waits for the common start, a moment ahead.
    package func start(_ plan: LoadPlan, of suite: Suite, routerURL: String, workdir: URL) async -> LoadStart<Launched> {
        let wallStartMs = StartTime.nowMs + Double(Self.startDelay.milliseconds)
        do {
            let groups = try launch(
                target: routerURL, seed: plan.seed, relay: plan.relay, loadHeaders: plan.headers, http2: plan.http2, startAtMs: wallStartMs,
                folder: workdir)
            return LoadStart(started: Launched(groups: groups, folder: workdir), wallStartMs: wallStartMs)
        } catch {
            return LoadStart(started: Launched(groups: [], folder: workdir), wallStartMs: wallStartMs, problems: ["cannot start the shards: \(error)"])
        }
    }

    package func carry(_ plan: LoadPlan, _ launched: Launched, clock: RunClock, progress: LoadProgress, stop: StopSignal) async -> CarriedLoad {
        var carried = await collect(launched.groups, folder: launched.folder, stop: stop)
        carried.elapsedSeconds = max(carried.elapsedSeconds, Double(clock.nowMicros) / 1e6)
        return carried
    }
}
