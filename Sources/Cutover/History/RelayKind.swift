/// How a router relays answers, which decides how an answer is matched to the upstream's
/// (a router profile's `relay:`).
package enum RelayKind: String, Sendable, CaseIterable, Codable {
    /// A byte-for-byte proxy (the reference router, nginx, HAProxy): the client must get
    /// the upstream's body bytes exactly.
    case verbatim
    /// A gateway that re-encodes JSON and re-frames SSE (LLM gateways): the content must
    /// be the upstream's (text, finish reason, usage; a model list's ids; an error's
    /// fields), whatever the framing.
    case semantic
}
