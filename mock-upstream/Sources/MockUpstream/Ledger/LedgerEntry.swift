import HTTPServerCore

/// One request as the upstream saw it: the server-side half of the reconciliation
/// between what the client sent and what an upstream actually executed.
package struct LedgerEntry: Sendable, Equatable {
    package var seq: UInt64
    package var requestID: String
    package var sessionID: String?
    package var method: String
    package var path: String
    package var model: String?
    package var stream: Bool
    /// Wall-clock arrival time, Unix milliseconds.
    package var arrivalMs: Double
    /// Wall-clock time the response ended (or the connection did), Unix milliseconds.
    package var finishMs: Double?
    /// Ids of the faults applied, in list order; empty when none.
    package var faults: [String]
    package var status: Int?
    package var outcome: RequestOutcome
    /// Response body bytes written.
    package var bytes: Int
    /// Stream events written.
    package var chunks: Int
    /// Request body bytes received (the prompt's size on the wire).
    package var requestBytes = 0
    /// The headers an injected error status carried besides the stamps (`retry-after`,
    /// `x-ratelimit-*`, the fault's own), lowercased: what a faithful relay passes on.
    package var faultHeaders: [String: String] = [:]

    package init(
        seq: UInt64, requestID: String, sessionID: String?, method: String, path: String, model: String?, stream: Bool, arrivalMs: Double, finishMs: Double?,
        faults: [String], status: Int?, outcome: RequestOutcome, bytes: Int, chunks: Int
    ) {
        self.seq = seq
        self.requestID = requestID
        self.sessionID = sessionID
        self.method = method
        self.path = path
        self.model = model
        self.stream = stream
        self.arrivalMs = arrivalMs
        self.finishMs = finishMs
        self.faults = faults
        self.status = status
        self.outcome = outcome
        self.bytes = bytes
        self.chunks = chunks
    }

    package var json: JSON {
        .object([
            ("seq", .int(Int(seq))),
            ("request_id", .string(requestID)),
            ("session_id", .optional(sessionID)),
            ("method", .string(method)),
            ("path", .string(path)),
            ("model", .optional(model)),
            ("stream", .bool(stream)),
            ("arrival_ms", .double(arrivalMs)),
            ("finish_ms", finishMs.map { .double($0) } ?? .null),
            ("fault", faults.isEmpty ? .null : .string(faults.joined(separator: ","))),
            ("status", status.map { .int($0) } ?? .null),
            ("outcome", .string(outcome.rawValue)),
            ("bytes", .int(bytes)),
            ("chunks", .int(chunks)),
            ("request_bytes", .int(requestBytes)),
            ("fault_headers", faultHeaders.isEmpty ? .null : .object(faultHeaders.keys.sorted().map { ($0, .string(faultHeaders[$0]!)) })),
        ])
    }
}
