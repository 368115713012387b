import ConfigInput
import Foundation
import HTTPServerCore
import MockUpstream

/// What only the coordinator of a sharded run saw, written beside the shards' parts
/// (`coordinator.json`): the upstream ledgers, the timeline's phases, actions and faults,
/// the control path, and the router build. With the parts it is the whole run, and
/// `cutover merge PART… coordinator.json --report-dir DIR` judges it again.
package struct CoordinatorPart: Codable, Sendable {
    package static let fileName = "coordinator.json"
    package static let format = "cutover-coordinator-part-2"

    package var format = Self.format
    package var suiteFile: String
    package var suite: String
    package var seed: UInt64
    package var target: String
    package var maxClockSkewMs: Double
    package var wallStartMs: Double
    package var startedAtMs: Double
    package var build: Build
    package var phases: [PhaseWindow]
    package var actions: [ActionRecord]
    package var faults: [FaultEntry]
    package var harnessFailures: [String]
    package var log: [String]
    /// Each upstream's ledger, as the mock encodes its entries.
    package var upstream: [String: [LedgerEntry]]
    package var upstreamDropped: [String: UInt64]
    package var control: Control?
    /// What the coordinator already knew was wrong (a shard that died, a clock off).
    package var problems: [String]
    /// What the router may change of an exchange: how its answers were read and matched.
    package var relay: RelayTerms
    /// Whose health gate the canaries met (absent from parts written before it was kept).
    package var gate: RouterGate?
    /// Whose figure the reported weights are (absent from parts written before it was kept).
    package var weightSource: WeightSource?

    package struct Build: Codable, Sendable {
        var profile, version, sha256, executable: String
    }

    /// A fault window; the fault in the admin API's JSON form, which parses back to it.
    package struct FaultEntry: Codable, Sendable {
        var target: ServedBy
        var fault: String
        var startUs: UInt32
        var endUs: UInt32
    }

    package struct Control: Codable, Sendable {
        var runID: String
        var records: [LedgerRecord]
        var faultStamps: [String]
    }

    package init(
        suite: Suite, suiteFile: String, seed: UInt64, maxClockSkewMs: Double, build: RouterBuild, history: RunHistory, log: [String], startedAt: Date,
        problems: [String]
    ) {
        self.suiteFile = suiteFile
        self.suite = suite.name
        self.seed = seed
        target = history.plan?.url ?? ""
        self.maxClockSkewMs = maxClockSkewMs
        wallStartMs = history.wallStartMs
        startedAtMs = startedAt.timeIntervalSince1970 * 1_000
        self.build = Build(profile: build.profile, version: build.version, sha256: build.sha256, executable: build.executable)
        phases = history.phases
        actions = history.actions
        faults = history.faults.map { FaultEntry(target: $0.target, fault: $0.fault.json.text, startUs: $0.startUs, endUs: $0.endUs) }
        harnessFailures = history.harnessFailures
        self.log = log
        upstream = Dictionary(uniqueKeysWithValues: history.upstream.map { ($0.key.name, $0.value) })
        upstreamDropped = Dictionary(uniqueKeysWithValues: history.upstreamLedgerDropped.map { ($0.key.name, $0.value) })
        control = history.control.map { Control(runID: $0.runID, records: $0.records, faultStamps: $0.faultStamps) }
        self.problems = problems
        relay = history.relay
        gate = history.gate
        weightSource = history.weightSource
    }

    package func write(to file: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(self).write(to: file, options: .atomic)
    }

    package typealias ReadError = PartReadError

    /// Reads a coordinator part; nil when the file is another kind of part.
    package static func read(_ file: URL) throws(ReadError) -> CoordinatorPart? {
        guard let handle = try? FileHandle(forReadingFrom: file) else { throw ReadError(file.path, "cannot read") }
        // A shard's part opens with its own header line; only then is it not this kind.
        let head = (try? handle.read(upToCount: 4_096)) ?? Data()
        try? handle.close()
        if head.range(of: Data(LedgerPart.format.utf8)) != nil || head.first != UInt8(ascii: "{") { return nil }
        guard let data = try? Data(contentsOf: file) else { throw ReadError(file.path, "cannot read") }
        do {
            return try JSONDecoder().decode(CoordinatorPart.self, from: data)
        } catch {
            throw ReadError(file.path, "not a coordinator part: \(error)")
        }
    }

    /// The run's history with `client` (the merged shard parts) as its client ledger.
    package func history(client: ClientLedger, plan: LoadPlan) throws(ReadError) -> RunHistory {
        var windows: [FaultWindow] = []
        for entry in faults {
            do {
                let fault = try Fault.parse(try ConfigNode.parseJSON(Array(entry.fault.utf8), source: "coordinator.json"), defaultID: "fault")
                windows.append(FaultWindow(target: entry.target, fault: fault, startUs: entry.startUs, endUs: entry.endUs))
            } catch {
                throw ReadError(Self.fileName, "a fault that does not parse: \(error)")
            }
        }
        var ledgers: [ServedBy: [LedgerEntry]] = [:]
        for (name, entries) in upstream {
            guard let env = ServedBy.allCases.first(where: { $0.name == name }) else { continue }
            ledgers[env] = entries
        }
        return RunHistory(
            client: client, upstream: ledgers, phases: phases, actions: actions, faults: windows, harnessFailures: harnessFailures,
            upstreamLedgerDropped: Dictionary(
                uniqueKeysWithValues: upstreamDropped.compactMap { name, count in
                    ServedBy.allCases.first { $0.name == name }.map { ($0, count) }
                }),
            control: control.map { ClientLedger(runID: $0.runID, records: $0.records, faultStamps: $0.faultStamps) }, plan: plan, wallStartMs: wallStartMs,
            relay: relay, gate: gate ?? .router, weightSource: weightSource ?? .router)
    }

    package var routerBuild: RouterBuild { RouterBuild(profile: build.profile, version: build.version, sha256: build.sha256, executable: build.executable) }
}
