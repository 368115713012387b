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

        func validate() throws {
            guard !parts.isEmpty else { throw ValidationError("give the parts to merge: cutover merge PART…") }
        }

        func run() async throws {
            var read: [(file: String, part: LedgerPart)] = []
            for file in parts {
                do {
                    read.append((file, try LedgerPart.read(URL(fileURLWithPath: file))))
                } catch {
                    throw ValidationError(error.description)
                }
            }
            let merged: PartMerge.Merged
            do {
                merged = try PartMerge.merge(read)
            } catch {
                throw ValidationError(error.description)
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
    }
}
