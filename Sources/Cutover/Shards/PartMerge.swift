import Foundation

/// Joins the ledger parts of one sharded run into the ledger one generator would have
/// written, after checking coverage: every part from the same run and schedule, every
/// shard present once, and every scheduled slot in exactly one part. Records are joined,
/// not summarised, so every percentile of the merged run is exact.
package enum PartMerge {
    /// A set of parts that cannot make one run; the message names the part at fault.
    package struct Problem: Error, CustomStringConvertible {
        package var description: String
    }

    /// The merged run.
    package struct Merged: Sendable {
        package var ledger: ClientLedger
        /// The first part's header: the run, schedule and shard count they share.
        package var header: LedgerPart.Header
        /// The longest any shard ran.
        package var elapsedSeconds: Double
        /// How far apart the shards woke to start (their own wall clocks), ms.
        package var startSpreadMs: Double
        /// The largest clock offset against the coordinator a part measured, ms (nil when
        /// none measured one).
        package var largestClockOffsetMs: Double?
    }

    /// Joins the parts. `requireEveryShard: false` joins what is there when a shard is
    /// already known to be lost (the run is invalid anyway, and says why).
    package static func merge(_ parts: [(file: String, part: LedgerPart)], requireEveryShard: Bool = true) throws(Problem) -> Merged {
        guard let (firstFile, first) = parts.first else { throw Problem(description: "no parts to merge") }
        let reference = first.header
        var byShard: [Int: String] = [:]
        for (file, part) in parts {
            let header = part.header
            if header.runID != reference.runID || header.source != reference.source || header.seed != reference.seed {
                throw Problem(
                    description:
                        "\(file): part of another run (\(header.source), seed \(header.seed), run \(header.runID)); \(firstFile) is of \(reference.source), seed \(reference.seed), run \(reference.runID)"
                )
            }
            if header.schedule != reference.schedule {
                throw Problem(description: "\(file): another schedule than \(firstFile)'s (the load or the suite differs)")
            }
            if header.shards != reference.shards {
                throw Problem(description: "\(file): shard \(header.shard) of \(header.shards), but \(firstFile) is of \(reference.shards) shards")
            }
            if let other = byShard[header.shard] {
                throw Problem(description: "\(file): shard \(header.shard) of \(header.shards) again (already in \(other))")
            }
            byShard[header.shard] = file
        }
        let missing = (0..<reference.shards).filter { byShard[$0] == nil }
        if requireEveryShard, !missing.isEmpty {
            throw Problem(
                description: "\(missing.map { "shard \($0)" }.joined(separator: ", ")) of \(reference.shards) missing: no part (a shard that died writes none)")
        }
        for (file, part) in parts { try checkStripe(file, part) }
        let starts = parts.map(\.part.header.wokeAtMs)
        return Merged(
            ledger: join(parts), header: reference, elapsedSeconds: parts.map(\.part.header.elapsedSeconds).max() ?? 0,
            startSpreadMs: (starts.max() ?? 0) - (starts.min() ?? 0), largestClockOffsetMs: parts.compactMap(\.part.header.clockOffsetMs).map(abs).max())
    }

    /// What a coordinator collected: the merged run when the parts make one, else what they
    /// hold, joined unchecked, with the reason (the run is then invalid, never judged whole).
    package static func salvage(
        _ parts: [(file: String, part: LedgerPart)], requireEveryShard: Bool
    ) -> (ledger: ClientLedger, elapsedSeconds: Double, problem: String?) {
        do {
            let merged = try merge(parts, requireEveryShard: requireEveryShard)
            return (merged.ledger, merged.elapsedSeconds, nil)
        } catch {
            return (join(parts), 0, "the shards' parts do not make one run: \(error.description)")
        }
    }

    /// The parts' records in sequence order, with their fault stamps interned into one table.
    private static func join(_ parts: [(file: String, part: LedgerPart)]) -> ClientLedger {
        // Fault stamps are interned per generator: re-intern them into one table.
        let stamps = FaultStampTable()
        var records: [LedgerRecord] = []
        records.reserveCapacity(parts.reduce(0) { $0 + $1.part.records.count })
        var errorHeaders: [UInt32: [String: String]] = [:]
        var earlierAttempts: [UInt32: [EarlierAttempt]] = [:]
        for (_, part) in parts {
            let map = part.header.faultStamps.map(stamps.index(of:))
            for var record in part.records {
                record.fault = Int(record.fault) < map.count ? map[Int(record.fault)] : 0
                records.append(record)
            }
            for (seq, headers) in part.header.errorHeaders { if let seq = UInt32(seq) { errorHeaders[seq] = headers } }
            for (seq, attempts) in part.header.earlierAttempts { if let seq = UInt32(seq) { earlierAttempts[seq] = attempts } }
        }
        records.sort { $0.seq < $1.seq }
        return ClientLedger(
            runID: parts.first?.part.header.runID ?? "", records: records, faultStamps: stamps.names, errorHeaders: errorHeaders,
            earlierAttempts: earlierAttempts)
    }

    /// A part holds its stripe: in the open model exactly its slots, each once; in the
    /// closed model only requests of its own clients.
    private static func checkStripe(_ file: String, _ part: LedgerPart) throws(Problem) {
        let header = part.header
        let shard = Shard(index: header.shard, count: header.shards)
        if let scheduled = header.scheduled {
            let expected = shard.share(of: scheduled)
            var seen = Set<UInt32>()
            seen.reserveCapacity(part.records.count)
            for record in part.records {
                guard Int(record.seq) < scheduled, shard.owns(Int(record.seq)) else {
                    throw Problem(description: "\(file): holds slot \(record.seq), which is not shard \(shard)'s")
                }
                guard seen.insert(record.seq).inserted else { throw Problem(description: "\(file): holds slot \(record.seq) twice") }
            }
            guard seen.count == expected else {
                throw Problem(description: "\(file): shard \(shard) holds \(seen.count) of its \(expected) slots (a shard stopped before its end?)")
            }
        } else if let connections = header.connections {
            for record in part.records where !shard.owns(Int(record.seq) % connections) {
                throw Problem(description: "\(file): holds request \(record.seq) of client \(Int(record.seq) % connections), which is not shard \(shard)'s")
            }
        }
    }
}
