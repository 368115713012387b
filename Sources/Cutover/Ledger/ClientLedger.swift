import HTTPServerCore

/// The client-side history of a run: exactly one record per scheduled request, in
/// sequence order, plus the interned fault stamps. Checks read it; nothing writes it
/// after the run.
public struct ClientLedger: Sendable {
    /// Prefix of every request id in this run: request `seq` has id `"\(runID)-\(seq)"`.
    public let runID: String
    public private(set) var records: [LedgerRecord]
    /// Fault stamps by index; index 0 is "none".
    public let faultStamps: [String]

    public init(runID: String, records: [LedgerRecord], faultStamps: [String]) {
        self.runID = runID
        self.records = records
        self.faultStamps = faultStamps
    }

    public func requestID(_ record: LedgerRecord) -> String { "\(runID)-\(record.seq)" }

    public func faultStamp(_ record: LedgerRecord) -> String? {
        record.fault == 0 ? nil : faultStamps[Int(record.fault)]
    }

    /// The record as one JSON line (`ledger.jsonl`).
    public func jsonLine(_ r: LedgerRecord) -> String {
        JSON.object([
            ("seq", .int(Int(r.seq))), ("request_id", .string(requestID(r))), ("session", .string("s\(r.session)")),
            ("endpoint", .string(r.endpoint.name)), ("intended_us", .int(Int(r.intendedUs))), ("sent_us", .int(Int(r.sentUs))),
            ("first_byte_us", .int(Int(r.firstByteUs))), ("done_us", .int(Int(r.doneUs))), ("status", .int(Int(r.status))),
            ("env", .string(r.servedBy.name)), ("fault", .optional(faultStamp(r))), ("bytes", .int(Int(r.bytes))),
            ("chunks", .int(Int(r.chunks))), ("done", .bool(r.sawDone)), ("curl_error", .int(Int(r.curlCode))),
            ("outcome", .string(r.outcome.name)),
        ]).text
    }
}
