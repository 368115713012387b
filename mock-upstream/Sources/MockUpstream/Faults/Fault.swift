import Foundation

/// One injected fault: what it does (`kind`), how often (`probability`) and to which
/// requests (`match`). Faults live in one ordered list, evaluated per request.
public struct Fault: Sendable, Equatable {
    /// Names the fault in the admin API, the ledger and the `X-Mock-Fault` stamp.
    public var id: String
    /// What the fault does.
    public var kind: Kind
    /// Chance in [0, 1] that a matching request gets this fault; drawn from the seeded generator.
    public var probability: Double
    /// Which requests it applies to.
    public var match: Match

    /// A fault that applies to the requests `match` selects, each with `probability`.
    public init(id: String, kind: Kind, probability: Double = 1, match: Match = Match()) {
        self.id = id
        self.kind = kind
        self.probability = probability
        self.match = match
    }

    /// Limits a fault to some requests; a nil field matches everything.
    public struct Match: Sendable, Equatable {
        /// Only this path, such as `/v1/chat/completions`.
        public var path: String?
        /// Only streams (true) or only whole answers (false).
        public var stream: Bool?
        /// Only requests for this model.
        public var model: String?

        /// A match; what is nil matches everything.
        public init(path: String? = nil, stream: Bool? = nil, model: String? = nil) {
            self.path = path
            self.stream = stream
            self.model = model
        }

        package var isEmpty: Bool { path == nil && stream == nil && model == nil }
    }

    /// What a fault does, with its own fields.
    public enum Kind: Sendable, Equatable {
        /// Delay before the response headers.
        case latency(LatencyDistribution)
        /// Time to first token and inter-token pace of streams.
        /// Ranges (`…Max` above the value) are drawn per request, uniformly: LLM streams differ.
        case streamPace(
            ttftMs: Double, tokensPerSecond: Double, jitterMs: Double, tokensPerChunk: Int = 1, ttftMaxMs: Double? = nil, tokensPerSecondMax: Double? = nil)
        /// An OpenAI error body with this status.
        case status(code: Int, retryAfter: RetryAfter?, headers: [Header], message: String?)
        /// The upstream is down: listener closed, connections reset, or never answered.
        case outage(OutageMode)
        /// A broken response body.
        case body(BodyMode)
        /// Close the connection after this many stream events.
        case streamCut(afterChunks: Int)
        /// Pause the stream after this many events, then resume.
        case streamStall(afterChunks: Int, stallMs: Double)
        /// An error event inside a 200 stream after this many events.
        case streamError(afterChunks: Int)
        /// The stream ends cleanly but without `data: [DONE]`.
        case streamNoDone
        /// Close a kept-alive connection once it has been idle this long after the answer,
        /// without `Connection: close`: how real upstreams and their load balancers end idle
        /// connections, and the source of the keep-alive race a router must survive.
        case idleClose(LatencyDistribution)
        /// Deliver the body in pieces of `sizeBytes`, `delayMs` apart (Toxiproxy's slicer).
        case slicer(sizeBytes: Int, delayMs: Double)
        /// Close the connection once this many body bytes are out (Toxiproxy's limit_data).
        case limitData(bytes: Int)
        /// Pace the body at this many bytes a second (Toxiproxy's bandwidth).
        case bandwidth(bytesPerSecond: Int)

        /// The name used in config files and the admin API.
        public var name: String {
            switch self {
            case .latency: "latency"
            case .streamPace: "stream-pace"
            case .status: "status"
            case .outage: "outage"
            case .body: "body"
            case .streamCut: "stream-cut"
            case .streamStall: "stream-stall"
            case .streamError: "stream-error"
            case .streamNoDone: "stream-no-done"
            case .idleClose: "idle-close"
            case .slicer: "slicer"
            case .limitData: "limit-data"
            case .bandwidth: "bandwidth"
            }
        }

        /// Shaping faults (delays, and the idle close after the answer) break nothing and
        /// combine with at most one outcome fault per request.
        package var isShaping: Bool {
            switch self {
            case .latency, .streamPace, .idleClose, .slicer, .bandwidth: true
            default: false
            }
        }

        /// Faults that only make sense on streamed responses (or only on whole bodies).
        var impliedStream: Bool? {
            switch self {
            case .streamPace, .streamCut, .streamStall, .streamError, .streamNoDone: true
            case .body: false
            default: nil
            }
        }
    }

    /// A header an injected error answer carries.
    public struct Header: Sendable, Equatable {
        /// The header's name.
        public var name: String
        /// Its value.
        public var value: String
        /// A header.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// `Retry-After` as seconds or as an HTTP date, sent as given.
    public enum RetryAfter: Sendable, Equatable {
        /// `Retry-After: N` seconds.
        case seconds(Int)
        /// `Retry-After:` an HTTP date.
        case date(String)

        package var headerValue: String {
            switch self {
            case .seconds(let s): String(s)
            case .date(let d): d
            }
        }
    }

    /// How an outage shows itself to clients.
    public enum OutageMode: String, Sendable, CaseIterable {
        /// Listener closed: new connections are refused; reopened on the same port when cleared.
        case refuse
        /// Accept, then RST.
        case reset
        /// Accept and read, never answer.
        case hang
    }

    /// How a broken body is broken.
    public enum BodyMode: String, Sendable, CaseIterable {
        /// 200 with an empty body.
        case empty
        /// Content-Length promises the full body, half is sent, then the connection closes.
        case truncate
        /// A complete transfer whose JSON is cut mid-document.
        case malformedJSON = "malformed-json"
        /// Seeded random bytes labelled as JSON.
        case garbage
    }

    /// True for `outage: refuse`, which acts on the listener rather than on requests.
    package var isListenerOutage: Bool {
        if case .outage(.refuse) = kind { return true }
        return false
    }

    /// Whether a request with these properties is subject to this fault.
    package func applies(path: String, stream: Bool, model: String?) -> Bool {
        if let wanted = kind.impliedStream, match.stream == nil, wanted != stream { return false }
        if let wanted = match.path, wanted != path { return false }
        if let wanted = match.stream, wanted != stream { return false }
        if let wanted = match.model, wanted != model { return false }
        return true
    }
}
