import Foundation

/// One shard's ledger, as it leaves the generator that made it: a JSON header line that
/// says which run, schedule and stripe it belongs to, then its records, 74 bytes each,
/// little-endian. Binary, because a merge reads millions of them.
package struct LedgerPart: Sendable {
    package struct Header: Codable, Sendable, Equatable {
        package var format = LedgerPart.format
        /// Prefix of the request ids: the same in every part of one run.
        package var runID: String
        /// What the schedule came from: a suite's name, or `load`.
        package var source: String
        package var seed: UInt64
        /// A digest of everything that decides the schedule (`LoadPlan.scheduleDigest`).
        package var schedule: String
        package var shard: Int
        package var shards: Int
        /// The open model's slots in the whole schedule; nil for the closed model.
        package var scheduled: Int?
        /// The closed model's clients in the whole schedule.
        package var connections: Int?
        /// The absolute start every shard waited for (Unix ms), when one was given.
        package var startAtMs: Double?
        /// When this shard's clock read zero (Unix ms, its own wall clock): the start it
        /// waited for, or when it began.
        package var wallStartMs: Double
        /// When it actually woke to start (Unix ms, its own wall clock).
        package var wokeAtMs: Double
        /// This machine's clock minus the coordinator's, measured before the start (ms).
        package var clockOffsetMs: Double?
        package var elapsedSeconds: Double
        package var records: Int
        /// Fault stamps by index, as this part's records intern them.
        package var faultStamps: [String]
        /// Relay headers of error answers, by sequence number.
        package var errorHeaders: [String: [String: String]]
        /// How the earlier attempts of replayed requests ended, by sequence number.
        package var earlierAttempts: [String: [EarlierAttempt]] = [:]

        enum CodingKeys: String, CodingKey {
            case format, source, seed, schedule, shard, shards, scheduled, connections, records
            case runID = "run_id", startAtMs = "start_at_ms", wallStartMs = "wall_start_ms", wokeAtMs = "woke_at_ms", clockOffsetMs = "clock_offset_ms"
            case elapsedSeconds = "elapsed_seconds", faultStamps = "fault_stamps", errorHeaders = "error_headers", earlierAttempts = "earlier_attempts"
        }
    }

    package static let format = "cutover-ledger-part-2"
    /// Bytes of one record in a part.
    package static let recordSize = 74

    package var header: Header
    package var records: [LedgerRecord]

    package init(header: Header, records: [LedgerRecord]) {
        self.header = header
        self.records = records
    }

    /// A shard's part of a finished load.
    package init(result: LoadResult, source: String, startAtMs: Double?, wallStartMs: Double, wokeAtMs: Double, clockOffsetMs: Double?) {
        let plan = result.plan
        var scheduled: Int?
        var connections: Int?
        switch plan.model {
        case .open: scheduled = plan.scheduledCount
        case .closed(let count): connections = count
        }
        header = Header(
            runID: plan.runID, source: source, seed: plan.seed, schedule: plan.scheduleDigest, shard: plan.shard.index, shards: plan.shard.count,
            scheduled: scheduled, connections: connections, startAtMs: startAtMs, wallStartMs: wallStartMs, wokeAtMs: wokeAtMs,
            clockOffsetMs: clockOffsetMs,
            elapsedSeconds: result.elapsedSeconds, records: result.ledger.records.count, faultStamps: result.ledger.faultStamps,
            errorHeaders: Dictionary(uniqueKeysWithValues: result.ledger.errorHeaders.map { (String($0.key), $0.value) }),
            earlierAttempts: Dictionary(uniqueKeysWithValues: result.ledger.earlierAttempts.map { (String($0.key), $0.value) }))
        records = result.ledger.records
    }

    /// Writes the part next to `file` and renames it into place: a shard killed while
    /// writing leaves no part, never half of one.
    package func write(to file: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var bytes = try encoder.encode(header)
        bytes.append(UInt8(ascii: "\n"))
        var body = [UInt8]()
        body.reserveCapacity(records.count * Self.recordSize)
        for record in records { Self.append(record, to: &body) }
        bytes.append(contentsOf: body)
        // Written beside the file and renamed into place.
        try bytes.write(to: file, options: .atomic)
    }

    /// Why a file is not a readable part.
    package typealias ReadError = PartReadError

    /// Reads a part; a file that is not one, or is cut short, is an error naming it.
    package static func read(_ file: URL) throws(ReadError) -> LedgerPart {
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw ReadError(file.path, "cannot read: \(error.localizedDescription)")
        }
        guard let newline = data.firstIndex(of: UInt8(ascii: "\n")) else { throw ReadError(file.path, "not a ledger part (no header line)") }
        let decoder = JSONDecoder()
        guard let header = try? decoder.decode(Header.self, from: data[data.startIndex..<newline]), header.format == format else {
            throw ReadError(file.path, "not a ledger part (expected a \(format) header)")
        }
        let body = data[(newline + 1)...]
        guard body.count == header.records * recordSize else {
            throw ReadError(
                file.path, "cut short: \(body.count) bytes of records, the header promises \(header.records) (\(header.records * recordSize) bytes)")
        }
        var records = [LedgerRecord]()
        records.reserveCapacity(header.records)
        body.withUnsafeBytes { raw in
            for index in 0..<header.records { records.append(Self.record(raw, at: index * recordSize)) }
        }
        return LedgerPart(header: header, records: records)
    }

    private static func append(_ r: LedgerRecord, to out: inout [UInt8]) {
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        for v in [r.seq, r.session, r.intendedUs, r.sentUs, r.firstByteUs, r.doneUs, r.bytes] { u32(v) }
        for v in [r.status, r.fault, r.chunks] { u16(v) }
        out += [r.servedBy.rawValue, r.outcome.rawValue, r.endpoint.rawValue, r.curlCode, r.flags, r.attempts]
        for v in [r.firstTokenUs, r.lastTokenUs, r.maxGapUs] { u32(v) }
        for v in [r.tokens, r.contentEvents, r.usageTokens] { u16(v) }
        for v in [r.answerDigest, r.messagesDigest] { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
    }

    private static func record(_ raw: UnsafeRawBufferPointer, at offset: Int) -> LedgerRecord {
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + at, as: UInt32.self)) }
        func u16(_ at: Int) -> UInt16 { UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset + at, as: UInt16.self)) }
        func u8(_ at: Int) -> UInt8 { raw[offset + at] }
        var r = LedgerRecord.notSent(seq: u32(0), session: u32(4), intendedUs: u32(8), endpoint: Endpoint(rawValue: u8(36)) ?? .chat)
        r.sentUs = u32(12)
        r.firstByteUs = u32(16)
        r.doneUs = u32(20)
        r.bytes = u32(24)
        r.status = u16(28)
        r.fault = u16(30)
        r.chunks = u16(32)
        r.servedBy = ServedBy(rawValue: u8(34)) ?? .unknown
        r.outcome = Outcome(rawValue: u8(35)) ?? .transport
        r.curlCode = u8(37)
        r.flags = u8(38)
        r.attempts = u8(39)
        r.firstTokenUs = u32(40)
        r.lastTokenUs = u32(44)
        r.maxGapUs = u32(48)
        r.tokens = u16(52)
        r.contentEvents = u16(54)
        r.usageTokens = u16(56)
        r.answerDigest = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 58, as: UInt64.self))
        r.messagesDigest = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 66, as: UInt64.self))
        return r
    }
}
