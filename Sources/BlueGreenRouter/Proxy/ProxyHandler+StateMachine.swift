extension ProxyHandler {
    /// The life of one client connection, apart from its bytes: which part of an exchange it
    /// is in, whether the response being written is its last, and when it is closed. Events
    /// come from the client, the upstream and the router; each returns what the handler must
    /// do, so that every way an exchange ends goes through one place (the in-flight gauge
    /// counts each exchange out exactly once) and the rules can be tested without sockets.
    struct StateMachine {
        private enum State: Equatable {
            /// No request in flight: waiting for a head.
            case idle
            /// A request's head was read; no upstream connection yet. `failedOver` once the
            /// first environment refused the connection and the other one was asked.
            case connecting(failedOver: Bool)
            /// An upstream connection has the request; no byte of the response yet.
            case awaitingResponse
            /// The response (an interim one or the final one) is being relayed.
            case responding
            /// Nothing more is read or answered: the connection is closing.
            case closed
        }

        private var state = State.idle
        /// The response being written is the connection's last (`Connection: close`): the
        /// client or the upstream said so, the router is draining, or the request's body
        /// cannot be told from a next request.
        private(set) var lastResponse = false

        /// An exchange is in flight (from its head to its response's end).
        var inExchange: Bool {
            switch state {
            case .connecting, .awaitingResponse, .responding: true
            case .idle, .closed: false
            }
        }

        /// Nothing more is read or answered.
        var isClosed: Bool { state == .closed }

        /// An upstream connection may still be attached to this exchange.
        var awaitsConnection: Bool { if case .connecting = state { true } else { false } }

        /// Part of the response has gone to the client.
        var responseStarted: Bool { state == .responding }

        /// What to do when a connection to the chosen environment failed.
        enum ConnectFailure: Equatable {
            /// Nothing was sent: ask the other environment, once.
            case tryTheOther
            /// Both refused: the router answers 502.
            case answerBadGateway
            /// A stale callback (the exchange moved on).
            case ignore
        }

        /// What to do once an exchange ended.
        enum AfterExchange: Equatable {
            /// Keep the connection: handle what the client sent next.
            case readNext
            /// Close it once what was written has gone.
            case close
        }

        /// What to do when the upstream broke off before the response ended.
        enum UpstreamFailure: Equatable {
            /// Part of the response is out: end the exchange and close, so that the client
            /// sees the truncation instead of a made-up end.
            case truncate
            /// Nothing is out yet: the router answers 502.
            case answerBadGateway
        }

        /// What to do with a request whose body broke off or is malformed.
        enum BadBody: Equatable {
            /// The request already went upstream: drop the exchange and close.
            case dropAndClose
            /// Nothing went upstream: answer 400, as the connection's last response.
            case answerBadRequest
        }

        /// A request's head was read.
        mutating func requestStarted() {
            assert(state == .idle, "a request head while \(state)")
            state = .connecting(failedOver: false)
        }

        mutating func connectFailed() -> ConnectFailure {
            switch state {
            case .connecting(failedOver: false):
                state = .connecting(failedOver: true)
                return .tryTheOther
            case .connecting(failedOver: true):
                return .answerBadGateway
            default:
                return .ignore
            }
        }

        /// An upstream connection is ready; false when the exchange no longer wants one.
        mutating func upstreamAttached() -> Bool {
            guard case .connecting = state else { return false }
            state = .awaitingResponse
            return true
        }

        /// A 1xx response is being relayed.
        mutating func interimResponse() {
            if state == .awaitingResponse { state = .responding }
        }

        /// The final response's head; `endsConnection` when the client, the upstream or the
        /// request's framing ends the connection with it. Returns whether it is the last.
        mutating func responseHead(endsConnection: Bool) -> Bool {
            if endsConnection { lastResponse = true }
            if state == .awaitingResponse { state = .responding }
            return lastResponse
        }

        /// The response ended.
        mutating func responseEnded() -> AfterExchange { endExchange(closing: lastResponse) }

        /// The router answered the exchange itself (an error); `endsConnection` as for a head.
        mutating func routerAnswered(endsConnection: Bool) -> AfterExchange {
            if endsConnection { lastResponse = true }
            return endExchange(closing: lastResponse)
        }

        mutating func upstreamFailed() -> UpstreamFailure {
            guard state == .responding else { return .answerBadGateway }
            state = .closed
            return .truncate
        }

        mutating func badBody() -> BadBody {
            switch state {
            case .awaitingResponse, .responding:
                state = .closed
                return .dropAndClose
            default:
                lastResponse = true
                return .answerBadRequest
            }
        }

        /// The router is draining: the next response head says it is the connection's last.
        /// A response whose head already went out without `Connection: close` is not made
        /// the last at its end: the client, told the connection stays, may send its next
        /// request on it at once, and a close then would lose that request. It is answered
        /// instead, with `Connection: close` (the head of every response of a draining
        /// router says so).
        mutating func drain() {
            if state != .responding { lastResponse = true }
        }

        /// The connection is being closed by the router (after a response, or a request it
        /// could not read).
        mutating func close() { state = .closed }

        /// The client's connection went away; says whether an exchange was in flight.
        mutating func clientClosed() -> Bool {
            let was = inExchange
            state = .closed
            return was
        }

        private mutating func endExchange(closing: Bool) -> AfterExchange {
            guard !closing else {
                state = .closed
                return .close
            }
            state = .idle
            return .readNext
        }
    }
}
