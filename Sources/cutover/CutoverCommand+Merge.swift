import ArgumentParser
import Cutover
import Foundation

extension CutoverCommand {
    /// `cutover merge`: the parts of a sharded load joined into the one ledger a single
    /// generator would have written, then summarised.
    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Join the ledger parts of a sharded run (cutover load --shard K/N --part FILE) and summarise them as one run.",
            discussion: """
                Every part must come from the same run and schedule, every shard must be there once, and every \
                scheduled slot must be in exactly one part; otherwise merge refuses (exit 2) and names the part. \
                Percentiles come from the joined records, so they are exact. Exit 0 for a valid run, 3 when a \
                generator fell behind (not-sent slots).
                """)

        @Argument(help: "The parts, one per shard.")
        var parts: [String]

        @Option(help: "Write the merged ledger, one JSON line per scheduled request, to this file.")
        var ledger: String?

        @Flag(help: "Print one JSON object instead of the summary.")
        var json = false

        @Option(
            name: .customLong("report-dir"),
            help: "Judge the run again and write report.json, junit.xml and report.html here; needs the coordinator's part (coordinator.json) among the parts.")
        var reportDir: String?

        func validate() throws {
            guard !parts.isEmpty else { throw ValidationError("give the parts to merge: cutover merge PART…") }
        }

        func run() async throws {
            var read: [(file: String, part: LedgerPart)] = []
            var coordinator: CoordinatorPart?
            for file in parts {
                do {
                    if let part = try CoordinatorPart.read(URL(fileURLWithPath: file)) {
                        guard coordinator == nil else { throw ValidationError("\(file): a second coordinator part") }
                        coordinator = part
                        continue
                    }
                    read.append((file, try LedgerPart.read(URL(fileURLWithPath: file))))
                } catch let error as PartReadError {
                    throw ValidationError(error.description)
                }
            }
            if reportDir != nil, coordinator == nil {
                throw ValidationError("--report-dir: needs the coordinator's part (\(CoordinatorPart.fileName)) among the parts, to judge the run")
            }
            let merged: PartMerge.Merged
            do {
                merged = try PartMerge.merge(read)
            } catch {
                throw ValidationError(error.description)
            }
            if let coordinator, let reportDir {
                try judge(merged, read, coordinator, reportDir: reportDir)
            }
            if let ledger {
                do {
                    try merged.ledger.writeJSONLines(to: URL(fileURLWithPath: ledger))
                } catch {
                    throw ValidationError("--ledger: cannot write '\(ledger)': \(error.localizedDescription)")
                }
            }
            let summary = LoadSummary(ledger: merged.ledger, elapsedSeconds: merged.elapsedSeconds)
            let valid = summary.outcomes[.notSent, default: 0] == 0
            if json {
                print(summary.json(valid: valid).text)
            } else {
                print(
                    "merged \(read.count) parts of \(merged.header.source) (seed \(merged.header.seed), run \(merged.header.runID)): "
                        + "\(merged.ledger.records.count) records; shards woke within \(String(format: "%.1f", merged.startSpreadMs)) ms")
                print(summary.text(valid: valid))
            }
            if !valid { throw ExitCode(3) }
        }

        /// The whole run again, from the coordinator's part and the shards': the checks,
        /// the reports, and the verdict as the exit code.
        private func judge(_ merged: PartMerge.Merged, _ parts: [(file: String, part: LedgerPart)], _ coordinator: CoordinatorPart, reportDir: String) throws {
            for (file, part) in parts where part.header.source != coordinator.suite || part.header.seed != coordinator.seed {
                throw ValidationError(
                    "\(file): a part of \(part.header.source) (seed \(part.header.seed)); the coordinator ran \(coordinator.suite) (seed \(coordinator.seed))")
            }
            let suite: Suite
            do {
                suite = try Suite.load(file: coordinator.suiteFile)
            } catch {
                throw ValidationError("coordinator.json names the suite \(coordinator.suiteFile): \(error)")
            }
            let problems = RemoteShards.clockProblems(parts.map(\.part), bound: coordinator.maxClockSkewMs)
            var plan = SuiteRunner.plan(suite, seed: coordinator.seed, url: coordinator.target)
            plan.relay = coordinator.relay.kind
            let history: RunHistory
            do {
                history = try coordinator.history(client: merged.ledger, plan: plan)
            } catch {
                throw ValidationError(error.description)
            }
            let run = RunJudge.judge(
                UnjudgedRun(
                    suite: suite, seed: coordinator.seed, build: coordinator.routerBuild, history: history, log: coordinator.log,
                    startedAt: Date(timeIntervalSince1970: coordinator.startedAtMs / 1_000), elapsedSeconds: merged.elapsedSeconds, problems: problems))
            print(RemoteShards.offsets(parts.map(\.part), bound: coordinator.maxClockSkewMs))
            print(TerminalReport.text(run))
            try ReportWriter.write(run, to: URL(fileURLWithPath: reportDir), ledger: false)
            print("Reports in \(reportDir) (open report.html in a browser)")
            throw ExitCode(run.verdict.exitCode)
        }
    }
}
