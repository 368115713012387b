import Foundation
import HTTPServerCore

/// One request as the upstream saw it: the server-side half of the reconciliation
/// between what the client sent and what an upstream actually executed. It encodes
/// itself (the admin API's `/_mock/ledger` and a sharded run's coordinator part use the
/// one encoding), so a new field cannot be lost on the way.
public struct LedgerEntry: Sendable, Equatable {
    /// Its place in the ledger, from 0.
    public var seq: UInt64
    /// `X-Request-ID` as it arrived (one the mock made up when none did).
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
    /// Requests its connection carried before it: 0 on a new connection. How a router
    /// reuses (or does not reuse) its upstream connections, as the upstream saw it.
    public var connectionIndex = 0
    /// The request line's HTTP version, such as `HTTP/1.1`.
    public var httpVersion = "HTTP/1.1"
    /// The headers an injected error status carried besides the stamps (`retry-after`,
    /// `x-ratelimit-*`, the fault's own), lowercased: what a faithful relay passes on.
    public var faultHeaders: [String: String] = [:]

    // What the request said, for comparing it with what the client sent.
    /// The request the body names (`RequestIdentity`): how an execution whose
    /// `X-Request-ID` was dropped or replaced is still attributed to its client request.
    public var bodyRequestID: String?
    /// `ExchangeFingerprint.messages` of the chat request's messages.
    public var messagesDigest: UInt64?
    /// `max_tokens` (or `max_completion_tokens`) as the request gave it; nil when absent.
    public var maxTokens: Int?
    /// `stream_options.include_usage`.
    public var includeUsage = false

    // What the answer was, for comparing it with what the client received.
    /// `Digest64` of the body bytes written: what a byte-for-byte relay must deliver.
    public var bodyDigest: UInt64 = Digest64().value
    /// `ExchangeFingerprint` of the answer's content (for a stream: all of it, also when a
    /// fault cut it short): what a re-encoding gateway must deliver.
    public var contentDigest: UInt64?
    /// The fault that cut this exchange while it was in flight (an outage that closed the
    /// port under it): what it broke is the upstream's doing.
    public var interruptedBy: String?

    /// How the exchange ended on the upstream's side: `completed`, `client-gone`, `cut`,
    /// `reset`, `hung` or `in-flight`.
    public var outcomeName: String { outcome.rawValue }

    /// Whether the whole answer left the upstream.
    public var completed: Bool { outcome == .completed }

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

    /// Entries as the admin API's `/_mock/ledger` lists them.
    package static func json(_ entries: [LedgerEntry]) -> JSON {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(entries) else { return .array([]) }
        return .raw(String(decoding: data, as: UTF8.self))
    }

    package var json: JSON { Self.json([self]).arrayElement }
}

extension JSON {
    /// The one element of a raw one-element array.
    fileprivate var arrayElement: JSON {
        guard case .raw(let text) = self, text.count > 2 else { return self }
        return .raw(String(text.dropFirst().dropLast()))
    }
}

extension LedgerEntry: Codable {
    enum CodingKeys: String, CodingKey {
        case seq, method, path, model, stream, status, outcome, bytes, chunks
        case requestID = "request_id", sessionID = "session_id", arrivalMs = "arrival_ms", finishMs = "finish_ms", faults = "fault"
        case requestBytes = "request_bytes", faultHeaders = "fault_headers", bodyRequestID = "body_request_id", messagesDigest = "messages_digest"
        case maxTokens = "max_tokens", includeUsage = "include_usage", bodyDigest = "body_digest", contentDigest = "content_digest"
        case interruptedBy = "interrupted_by", connectionIndex = "connection_index", httpVersion = "http_version"
    }

    /// Encodes the entry as `/_mock/ledger` lists it: snake_case keys, digests as 16 hex digits.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(seq, forKey: .seq)
        try c.encode(requestID, forKey: .requestID)
        try c.encode(sessionID, forKey: .sessionID)
        try c.encode(method, forKey: .method)
        try c.encode(path, forKey: .path)
        try c.encode(model, forKey: .model)
        try c.encode(stream, forKey: .stream)
        try c.encode(arrivalMs, forKey: .arrivalMs)
        try c.encode(finishMs, forKey: .finishMs)
        try c.encode(faults.isEmpty ? nil : faults.joined(separator: ","), forKey: .faults)
        try c.encode(status, forKey: .status)
        try c.encode(outcome.rawValue, forKey: .outcome)
        try c.encode(bytes, forKey: .bytes)
        try c.encode(chunks, forKey: .chunks)
        try c.encode(requestBytes, forKey: .requestBytes)
        try c.encode(faultHeaders.isEmpty ? nil : faultHeaders, forKey: .faultHeaders)
        try c.encode(bodyRequestID, forKey: .bodyRequestID)
        try c.encode(messagesDigest.map(ExchangeFingerprint.hex), forKey: .messagesDigest)
        try c.encode(maxTokens, forKey: .maxTokens)
        try c.encode(includeUsage, forKey: .includeUsage)
        try c.encode(ExchangeFingerprint.hex(bodyDigest), forKey: .bodyDigest)
        try c.encode(contentDigest.map(ExchangeFingerprint.hex), forKey: .contentDigest)
        try c.encode(interruptedBy, forKey: .interruptedBy)
        try c.encode(connectionIndex, forKey: .connectionIndex)
        try c.encode(httpVersion, forKey: .httpVersion)
    }

    /// Reads an entry as `/_mock/ledger` lists it.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func digest(_ key: CodingKeys) throws -> UInt64? {
            guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
            guard let value = ExchangeFingerprint.value(hex: text) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "expected 16 hex digits, got '\(text)'")
            }
            return value
        }
        let outcomeName = try c.decode(String.self, forKey: .outcome)
        guard let outcome = RequestOutcome(rawValue: outcomeName) else {
            throw DecodingError.dataCorruptedError(forKey: .outcome, in: c, debugDescription: "unknown outcome '\(outcomeName)'")
        }
        self.init(
            seq: try c.decode(UInt64.self, forKey: .seq), requestID: try c.decode(String.self, forKey: .requestID),
            sessionID: try c.decodeIfPresent(String.self, forKey: .sessionID), method: try c.decode(String.self, forKey: .method),
            path: try c.decode(String.self, forKey: .path), model: try c.decodeIfPresent(String.self, forKey: .model),
            stream: try c.decode(Bool.self, forKey: .stream), arrivalMs: try c.decode(Double.self, forKey: .arrivalMs),
            finishMs: try c.decodeIfPresent(Double.self, forKey: .finishMs),
            faults: try c.decodeIfPresent(String.self, forKey: .faults).map { $0.split(separator: ",").map(String.init) } ?? [],
            status: try c.decodeIfPresent(Int.self, forKey: .status), outcome: outcome, bytes: try c.decode(Int.self, forKey: .bytes),
            chunks: try c.decode(Int.self, forKey: .chunks))
        requestBytes = try c.decodeIfPresent(Int.self, forKey: .requestBytes) ?? 0
        faultHeaders = try c.decodeIfPresent([String: String].self, forKey: .faultHeaders) ?? [:]
        bodyRequestID = try c.decodeIfPresent(String.self, forKey: .bodyRequestID)
        messagesDigest = try digest(.messagesDigest)
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
        includeUsage = try c.decodeIfPresent(Bool.self, forKey: .includeUsage) ?? false
        bodyDigest = try digest(.bodyDigest) ?? Digest64().value
        contentDigest = try digest(.contentDigest)
        interruptedBy = try c.decodeIfPresent(String.self, forKey: .interruptedBy)
        connectionIndex = try c.decodeIfPresent(Int.self, forKey: .connectionIndex) ?? 0
        httpVersion = try c.decodeIfPresent(String.self, forKey: .httpVersion) ?? "HTTP/1.1"
    }
}
