/// How a client talks to the router, beyond what it asks: the ways real clients differ
/// that a router must serve alike (a mix entry's `client:`).
package enum ClientKind: Sendable, Equatable, CustomStringConvertible {
    /// HTTP/1.1, kept alive and reused, reading as fast as it can (libcurl's way).
    case keepAlive
    /// `Connection: close` on every request: a new connection each time.
    case close
    /// HTTP/1.0 without keep-alive: no chunked answers, a stream ends at the close.
    case http10
    /// Reads the answer at most this fast: a stream consumer whose window fills, so the
    /// router must apply back-pressure rather than buffer without bound.
    case slowReader(bytesPerSecond: Int)
    /// HTTP/2 with prior knowledge (h2c), for routers that offer it.
    case http2

    /// As suites write it.
    package var description: String {
        switch self {
        case .keepAlive: "keep-alive"
        case .close: "close"
        case .http10: "http1.0"
        case .slowReader(let rate): "slow-reader(\(rate) B/s)"
        case .http2: "h2"
        }
    }

    /// Whether libcurl may reuse the connection for the next request: an `h2` client only
    /// where libcurl can reuse a prior-knowledge connection (8.0 on).
    var reusesConnections: Bool {
        switch self {
        case .close, .http10: false
        case .keepAlive, .slowReader: true
        case .http2: CurlTransfer.reusesPriorKnowledgeConnections
        }
    }
}
