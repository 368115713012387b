/// How one scheduled request ended, from the client's side.
public enum Outcome: UInt8, Sendable, CaseIterable, Codable {
    /// A complete 2xx response (for streams: `[DONE]` arrived).
    case ok = 0
    /// A non-2xx (or a broken 2xx stream) that an upstream stamped: relayed faithfully.
    case upstreamFault = 1
    /// A non-2xx that no upstream stamped: the router made it up.
    case routerError = 2
    /// Refused, reset, timed out, or a truncated body or stream.
    case transport = 3
    /// The generator fell behind and never sent it: the run is invalid, not the router's fault.
    case notSent = 4

    /// The name used in reports and JSON.
    public var name: String {
        switch self {
        case .ok: "ok"
        case .upstreamFault: "upstream-fault"
        case .routerError: "router-error"
        case .transport: "transport"
        case .notSent: "not-sent"
        }
    }

    /// A dropped request: the router's fault (SPEC §3).
    public var isDropped: Bool { self == .routerError || self == .transport }
}

/// The environment that served a request, from `X-Environment` or `X-Upstream-Env`.
public enum ServedBy: UInt8, Sendable, CaseIterable, Codable {
    case unknown = 0
    case blue = 1
    case green = 2

    public var name: String {
        switch self {
        case .unknown: "unknown"
        case .blue: "blue"
        case .green: "green"
        }
    }

    init(header: String?) {
        switch header?.lowercased() {
        case "blue": self = .blue
        case "green": self = .green
        default: self = .unknown
        }
    }
}

/// What a request asked for.
public enum Endpoint: UInt8, Sendable, CaseIterable, Codable {
    case models = 0
    case chat = 1
    case chatStream = 2

    public var name: String {
        switch self {
        case .models: "models"
        case .chat: "chat"
        case .chatStream: "chat-stream"
        }
    }

    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }
}
