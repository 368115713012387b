/// One scheduled request, as the client saw it. Fixed-size (80 bytes) so a million
/// requests fit in 80 MB; times are microseconds since the run started. The reconcile
/// stage rewrites `servedBy` and `outcome` from the upstreams' evidence.
package struct LedgerRecord: Sendable, Equatable, Codable {
    /// The answer the client received, as the upstream's ledger digests it: `Digest64` of
    /// the body bytes (a `verbatim` relay), or `ExchangeFingerprint` of its content (a
    /// `semantic` one). 0 before any answer.
    package var answerDigest: UInt64 = 0
    /// `ExchangeFingerprint.messages` of the chat request it sent (0 for a GET): the
    /// upstream must have received exactly these messages.
    package var messagesDigest: UInt64 = 0
    /// Sequence number of the scheduled slot (0-based); the request id is `<run>-<seq>`.
    package var seq: UInt32
    /// Index of the session key in the pool (`s<index>`).
    package var session: UInt32
    /// When the schedule said to send it.
    package var intendedUs: UInt32
    /// When it was actually handed to libcurl.
    package var sentUs: UInt32
    /// First response byte (headers); 0 when none arrived.
    package var firstByteUs: UInt32
    /// When the transfer ended.
    package var doneUs: UInt32
    /// Response body bytes.
    package var bytes: UInt32
    /// HTTP status; 0 when no response head arrived.
    package var status: UInt16
    /// Interned `X-Mock-Fault` stamp; 0 = none or absent.
    package var fault: UInt16
    /// Stream events received.
    package var chunks: UInt16
    /// Who served it: the upstream's `X-Upstream-Env` stamp as the client saw it, and after
    /// reconciliation the upstream whose ledger holds the execution that answered.
    package var servedBy: ServedBy
    package var outcome: Outcome
    package var endpoint: Endpoint
    /// libcurl's result code (0 = OK).
    package var curlCode: UInt8
    /// Bit 0: `[DONE]` arrived. Bit 1: an upstream stamped the response (`X-Upstream-Env`).
    /// Bits 2–3: the router's own `X-Environment` header (a `ServedBy` raw value).
    /// Bit 4: the response echoed this request's `X-Request-ID`; bit 5: it echoed another.
    /// Bit 6: the harness ran out of descriptors for it (`EMFILE`, `ENFILE`). Bit 7: not
    /// sent because every transfer slot was waiting on the router.
    package var flags: UInt8
    /// How many times libcurl sent the request: more than 1 when it silently replayed it
    /// on a fresh connection after a reused one died before the first response byte.
    /// Every attempt is evidence (`ClientLedger.earlierAttempts` says how each earlier one
    /// ended): the router lost the first answer, and whether it executed the request
    /// twice is for the upstream ledgers to say.
    package var attempts: UInt8 = 0

    // Streams, as LLM load tools report them (definitions in docs/load.md).
    /// The first event that carried content (the first token); 0 when none did.
    package var firstTokenUs: UInt32 = 0
    /// The last event that carried content.
    package var lastTokenUs: UInt32 = 0
    /// The longest wait between two stream events (a stall, or a router that buffers).
    package var maxGapUs: UInt32 = 0
    /// Tokens received: words of the content deltas (exact for the mock, whose tokens are
    /// words; an estimate for another relay's).
    package var tokens: UInt16 = 0
    /// Events that carried content.
    package var contentEvents: UInt16 = 0
    /// `usage.completion_tokens` of the stream's usage chunk; 0 when it sent none.
    package var usageTokens: UInt16 = 0

    package static let doneFlag: UInt8 = 1
    package static let stampedFlag: UInt8 = 2
    static let routerHeaderShift: UInt8 = 2
    package static let echoMatchedFlag: UInt8 = 16
    package static let echoDifferedFlag: UInt8 = 32
    package static let descriptorsExhaustedFlag: UInt8 = 64
    package static let heldBackFlag: UInt8 = 128

    package var sawDone: Bool { flags & Self.doneFlag != 0 }
    package var upstreamStamped: Bool { flags & Self.stampedFlag != 0 }
    /// The response carried another request's `X-Request-ID`: the answer of another request.
    package var echoedAnotherID: Bool { flags & Self.echoDifferedFlag != 0 }
    /// The harness could not open a socket for it: the harness's fault, never the router's.
    package var descriptorsExhausted: Bool { flags & Self.descriptorsExhaustedFlag != 0 }
    /// A slot the generator could not start because every transfer slot was held by a
    /// router that did not answer: the router's back-pressure, not the generator's lateness.
    package var heldBack: Bool { flags & Self.heldBackFlag != 0 }

    /// The environment the router's `X-Environment` header named (`.unknown` when absent):
    /// the router's word, which reconciliation compares with the upstreams' evidence.
    package var routerHeader: ServedBy {
        get { ServedBy(rawValue: (flags >> Self.routerHeaderShift) & 3) ?? .unknown }
        set { flags = (flags & ~(3 << Self.routerHeaderShift)) | (newValue.rawValue << Self.routerHeaderShift) }
    }

    /// Latency from the intended send time (coordinated omission corrected), µs.
    package var correctedLatencyUs: UInt32 { doneUs >= intendedUs ? doneUs - intendedUs : 0 }
    /// Latency from the actual send time, µs.
    package var latencyUs: UInt32 { doneUs >= sentUs ? doneUs - sentUs : 0 }
    /// By when the router had certainly chosen an environment: the first response byte,
    /// or the end when none came. The choice happened between `sentUs` and this.
    package var routedByUs: UInt32 { firstByteUs > 0 ? firstByteUs : doneUs }

    /// Time to first byte from the intended send time, µs; the whole time when no byte came
    /// (a request the router held until it failed still counts what it cost).
    package var waitedUs: UInt32 {
        let until = firstByteUs > 0 ? firstByteUs : doneUs
        return until >= intendedUs ? until - intendedUs : 0
    }

    /// How late the generator sent it, µs.
    package var lagUs: UInt32 { sentUs >= intendedUs ? sentUs - intendedUs : 0 }

    /// Time to the response headers from the send, µs (the router's delay shows here).
    package var headersUs: UInt32? { firstByteUs > sentUs ? firstByteUs - sentUs : nil }
    /// Time to the first token from the send, µs (the model's delay on top).
    package var firstTokenLatencyUs: UInt32? { firstTokenUs > sentUs ? firstTokenUs - sentUs : nil }
    /// Per-token inter-token latency (vLLM's TPOT: the first token left out), µs.
    package var interTokenUs: Double? {
        tokens > 1 && lastTokenUs > firstTokenUs ? Double(lastTokenUs - firstTokenUs) / Double(tokens - 1) : nil
    }
    /// The mean gap between content events, µs.
    package var chunkGapUs: Double? {
        contentEvents > 1 && lastTokenUs > firstTokenUs ? Double(lastTokenUs - firstTokenUs) / Double(contentEvents - 1) : nil
    }
    /// Tokens per second after the first token.
    package var tokensPerSecond: Double? { interTokenUs.map { 1e6 / $0 } }

    /// A slot the generator never sent.
    package static func notSent(seq: UInt32, session: UInt32, intendedUs: UInt32, endpoint: Endpoint) -> LedgerRecord {
        LedgerRecord(
            seq: seq, session: session, intendedUs: intendedUs, sentUs: 0, firstByteUs: 0, doneUs: 0, bytes: 0, status: 0, fault: 0,
            chunks: 0, servedBy: .unknown, outcome: .notSent, endpoint: endpoint, curlCode: 0, flags: 0, attempts: 0)
    }
}
