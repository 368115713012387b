import HTTPServerCore

/// One request as the upstream saw it: the server-side half of the reconciliation
/// between what the client sent and what an upstream actually executed.
public struct LedgerEntry: Sendable, Equatable {
    /// Its place in the ledger, from 0.
    public var seq: UInt64
    /// `X-Request-ID` as it arrived.
    public var requestID: String
    /// `X-Session-ID`, when the request had one.
    public var sessionID: String?
    /// The HTTP method.
    public var method: String
    /// The request path, such as `/v1/chat/completions`.
    public var path: String
    /// The chat request's model.
    public var model: String?
    /// Whether the client asked for a stream.
    public var stream: Bool
    /// Wall-clock arrival time, Unix milliseconds.
    public var arrivalMs: Double
    /// Wall-clock time the response ended (or the connection did), Unix milliseconds.
    public var finishMs: Double?
    /// Ids of the faults applied, in list order; empty when none.
    public var faults: [String]
    /// The status sent, if a head was sent.
    public var status: Int?
    package var outcome: RequestOutcome
    /// Response body bytes written.
    public var bytes: Int
    /// Stream events written.
    public var chunks: Int
    /// Request body bytes received (the prompt's size on the wire).
    public var requestBytes = 0
    /// The headers an injected error status carried besides the stamps (`retry-after`,
    /// `x-ratelimit-*`, the fault's own), lowercased: what a faithful relay passes on.
    public var faultHeaders: [String: String] = [:]

    /// How the exchange ended on the upstream's side: `completed`, `client-gone`, `cut`,
    /// `reset`, `hung` or `in-flight`.
    public var outcomeName: String { outcome.rawValue }

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
