/// Why reconciliation called an exchange dropped although the client may have got a 2xx,
/// or what else it found about it: the reason a report names beside the request id.
package enum ExchangeFinding: UInt8, Sendable, CaseIterable {
    /// The client got an answer that is another request's (by the echoed `X-Request-ID`, or
    /// because its digest is another execution's).
    case anotherRequestsAnswer = 1
    /// A chat 2xx that no upstream executed: a cached or made-up answer.
    case noUpstreamExecution
    /// The answer differs from the one the upstream gave (bytes, or content for a
    /// `semantic` relay) and is no other request's either.
    case alteredAnswer
    /// The answer ended short: fewer bytes than the upstream sent, a stream without `[DONE]`,
    /// or a transfer error.
    case shortAnswer
    /// A POST whose first attempt the router closed unanswered on a reused connection:
    /// libcurl sent it again, but RFC 9112 §9.3.1 lets a client resend only idempotent
    /// requests on its own, so a client that does not saw an error.
    case firstAttemptUnanswered
    /// A GET that libcurl had to send again for the same reason: a client may retry it, so
    /// it is reported, not dropped.
    case replayedGet

    package var text: String {
        switch self {
        case .anotherRequestsAnswer: "answer of another request"
        case .noUpstreamExecution: "no upstream execution"
        case .alteredAnswer: "answer differs from the upstream's"
        case .shortAnswer: "answer ended short"
        case .firstAttemptUnanswered: "first attempt closed unanswered (a POST may not be resent, RFC 9112 §9.3.1)"
        case .replayedGet: "sent again after a reused connection closed unanswered"
        }
    }
}
