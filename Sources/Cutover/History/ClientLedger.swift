import Foundation
import HTTPServerCore
import MockUpstream

/// The client-side history of a run: exactly one record per scheduled request, in
/// sequence order, plus the interned fault stamps. Checks read it; nothing writes it
/// after the run.
package struct ClientLedger: Sendable {
    /// Prefix of every request id in this run: request `seq` has id `"\(runID)-\(seq)"`.
    package let runID: String
    package private(set) var records: [LedgerRecord]
    /// Fault stamps by index; index 0 is "none".
    package let faultStamps: [String]
    /// The relay-relevant headers (`Retry-After`, `x-ratelimit-*`) of each non-2xx
    /// response, by sequence number: sparse, since errors are few.
    package let errorHeaders: [UInt32: [String: String]]
    /// How each attempt before the last one ended, for the requests libcurl sent more than
    /// once, by sequence number: sparse, since replays are few.
    package let earlierAttempts: [UInt32: [EarlierAttempt]]

    package init(
        runID: String, records: [LedgerRecord], faultStamps: [String], errorHeaders: [UInt32: [String: String]] = [:],
        earlierAttempts: [UInt32: [EarlierAttempt]] = [:]
    ) {
        self.runID = runID
        self.records = records
        self.faultStamps = faultStamps
        self.errorHeaders = errorHeaders
        self.earlierAttempts = earlierAttempts
    }

    /// The same ledger with other records (the reconciled ones).
    func replacing(records: [LedgerRecord]) -> ClientLedger {
        ClientLedger(runID: runID, records: records, faultStamps: faultStamps, errorHeaders: errorHeaders, earlierAttempts: earlierAttempts)
    }

    package func requestID(_ record: LedgerRecord) -> String { "\(runID)-\(record.seq)" }

    package func faultStamp(_ record: LedgerRecord) -> String? {
        record.fault == 0 ? nil : faultStamps[Int(record.fault)]
    }

    /// The fault ids of a record's stamp (empty for none).
    func faultIDs(_ record: LedgerRecord) -> [Substring] {
        faultStamp(record).map { $0.split(separator: ",") } ?? []
    }

    /// The record as one JSON line (`ledger.jsonl`).
    package func jsonLine(_ r: LedgerRecord) -> String {
        JSON.object([
            ("seq", .int(Int(r.seq))), ("request_id", .string(requestID(r))), ("session", .string("s\(r.session)")),
            ("endpoint", .string(r.endpoint.name)), ("intended_us", .int(Int(r.intendedUs))), ("sent_us", .int(Int(r.sentUs))),
            ("first_byte_us", .int(Int(r.firstByteUs))), ("done_us", .int(Int(r.doneUs))), ("status", .int(Int(r.status))),
            ("env", .string(r.servedBy.name)), ("router_env", r.routerHeader == .unknown ? .null : .string(r.routerHeader.name)),
            ("fault", .optional(faultStamp(r))), ("bytes", .int(Int(r.bytes))), ("chunks", .int(Int(r.chunks))), ("done", .bool(r.sawDone)),
            ("attempts", .int(Int(r.attempts))),
            ("earlier_attempts", earlierAttempts[r.seq].flatMap { JSON.encoding($0) } ?? .null),
            ("curl_error", .int(Int(r.curlCode))), ("outcome", .string(r.outcome.name)),
            ("messages_digest", r.messagesDigest == 0 ? .null : .string(ExchangeFingerprint.hex(r.messagesDigest))),
            ("answer_digest", r.answerDigest == 0 ? .null : .string(ExchangeFingerprint.hex(r.answerDigest))),
            ("echoed_request_id", r.flags & LedgerRecord.echoMatchedFlag != 0 ? .string("this") : r.echoedAnotherID ? .string("another") : .null),
            ("first_token_us", r.firstTokenUs == 0 ? .null : .int(Int(r.firstTokenUs))),
            ("last_token_us", r.lastTokenUs == 0 ? .null : .int(Int(r.lastTokenUs))), ("max_gap_us", .int(Int(r.maxGapUs))),
            ("tokens", .int(Int(r.tokens))), ("content_events", .int(Int(r.contentEvents))),
            ("usage_tokens", r.usageTokens == 0 ? .null : .int(Int(r.usageTokens))),
        ]).text
    }

    /// Writes every record as JSON lines, in blocks, so a million never sit in one string.
    package func writeJSONLines(to file: URL) throws {
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
        }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        var block = ""
        for record in records {
            block += jsonLine(record)
            block += "\n"
            if block.utf8.count > 1 << 20 {
                try handle.write(contentsOf: Data(block.utf8))
                block = ""
            }
        }
        try handle.write(contentsOf: Data(block.utf8))
    }
}
