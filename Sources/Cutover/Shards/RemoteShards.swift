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
        count: Int, suiteFile: String, partsFolder: URL, listenHost: String, listenPort: Int, advertiseHost: String, startDelay: Duration, maxClockSkewMs: Double
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
    package func collect(deadline: ContinuousClock.Instant, stop: StopSignal) async -> (ledger: ClientLedger, elapsedSeconds: Double, problems: [String], offsets: String) {
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
        return (joined.ledger, joined.elapsedSeconds, problems, Self.offsets(parts.map(\.part), bound: maxClockSkewMs))
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
