/// How one scheduled request ended, from the client's side.
package enum Outcome: UInt8, Sendable, CaseIterable, Codable {
    /// A complete 2xx response (for streams: `[DONE]` arrived).
    case ok = 0
    /// A non-2xx, or a stream that ended early, that an injected upstream fault produced
    /// (its stamp says so and the upstream's ledger holds that execution): relayed faithfully.
    case upstreamFault = 1
    /// Any other non-2xx, including a 4xx the upstream gave because the router altered
    /// the request (a stripped key, a rewritten path).
    case routerError = 2
    /// Refused, reset, timed out, or a body or stream shorter than the upstream sent.
    case transport = 3
    /// The generator fell behind and never sent it: the run is invalid, not the router's fault.
    case notSent = 4
    /// The client abandoned it on purpose (a set share of streams, `cancel:`): neither the
    /// router's success nor its fault. Whether the router passed the cancel on is
    /// CancelPropagation's question.
    case cancelled = 5

    /// The name used in reports and JSON.
    package var name: String {
        switch self {
        case .ok: "ok"
        case .upstreamFault: "upstream-fault"
        case .routerError: "router-error"
        case .transport: "transport"
        case .notSent: "not-sent"
        case .cancelled: "cancelled"
        }
    }

    /// A dropped request: the router's fault (SPEC §3).
    package var isDropped: Bool { self == .routerError || self == .transport }
}
