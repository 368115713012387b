import Testing

@testable import BlueGreenRouter

/// The client connection's state machine alone: each way an exchange can go, without sockets.
@Suite("Proxy state machine")
struct ProxyStateMachineTests {
    typealias Machine = ProxyHandler.StateMachine

    /// A connection whose request went upstream and awaits its response.
    static func forwarded() -> Machine {
        var machine = Machine()
        machine.requestStarted()
        _ = machine.upstreamAttached()
        return machine
    }

    @Test func aKeptAliveConnectionCarriesOneExchangeAfterAnother() {
        var machine = Machine()
        for _ in 0..<3 {
            machine.requestStarted()
            #expect(machine.inExchange && machine.awaitsConnection)
            let attached = machine.upstreamAttached()
            #expect(attached)
            #expect(!machine.responseStarted)
            let last = machine.responseHead(endsConnection: false)
            #expect(!last)
            #expect(machine.responseStarted)
            #expect(machine.responseEnded() == .readNext)
            #expect(!machine.inExchange && !machine.isClosed)
        }
    }

    @Test func aRefusedConnectionTriesTheOtherEnvironmentOnceThenAnswers502() {
        var machine = Machine()
        machine.requestStarted()
        #expect(machine.connectFailed() == .tryTheOther)
        #expect(machine.awaitsConnection)
        #expect(machine.connectFailed() == .answerBadGateway)
        #expect(machine.routerAnswered(endsConnection: false) == .readNext)
        // A late failure of a connection the exchange no longer waits for changes nothing.
        #expect(machine.connectFailed() == .ignore)
        machine.requestStarted()
        let attached = machine.upstreamAttached()
        #expect(attached)
        #expect(machine.connectFailed() == .ignore)
    }

    @Test func theLastResponseClosesTheConnectionWhoeverSaidSo() {
        // The client, the upstream or the request's framing, through the head.
        var byHead = Self.forwarded()
        let last = byHead.responseHead(endsConnection: true)
        #expect(last)
        #expect(byHead.responseEnded() == .close)
        #expect(byHead.isClosed)
        // A drain, whether it came while idle or mid-exchange.
        var drained = Machine()
        drained.drain()
        drained.requestStarted()
        _ = drained.upstreamAttached()
        let drainedLast = drained.responseHead(endsConnection: false)
        #expect(drainedLast)
        #expect(drained.responseEnded() == .close)
        // A drain after a head that said the connection stays: the client may already be
        // sending on it, so it stays for one more exchange, whose head the proxy closes.
        var told = Self.forwarded()
        _ = told.responseHead(endsConnection: false)
        told.drain()
        #expect(told.responseEnded() == .readNext)
        told.requestStarted()
        _ = told.upstreamAttached()
        let toldLast = told.responseHead(endsConnection: true)
        #expect(toldLast && told.responseEnded() == .close)
        // A response of the router's own.
        var answered = Machine()
        answered.requestStarted()
        #expect(answered.routerAnswered(endsConnection: true) == .close)
        #expect(answered.isClosed)
    }

    @Test func anUpstreamThatBreaksOffTruncatesAStartedResponseAndIsA502Before() {
        var started = Self.forwarded()
        _ = started.responseHead(endsConnection: false)
        #expect(started.upstreamFailed() == .truncate)
        #expect(started.isClosed && !started.inExchange)

        var before = Self.forwarded()
        #expect(before.upstreamFailed() == .answerBadGateway)
        #expect(before.inExchange)
        #expect(before.routerAnswered(endsConnection: false) == .readNext)

        // An interim response (100 Continue) has started the response too.
        var interim = Self.forwarded()
        interim.interimResponse()
        #expect(interim.upstreamFailed() == .truncate)
    }

    @Test func aBrokenRequestBodyIsA400BeforeItWentUpstreamAndACloseAfter() {
        var unsent = Machine()
        unsent.requestStarted()
        #expect(unsent.badBody() == .answerBadRequest)
        #expect(unsent.lastResponse)
        #expect(unsent.routerAnswered(endsConnection: false) == .close)

        var sent = Self.forwarded()
        #expect(sent.badBody() == .dropAndClose)
        #expect(sent.isClosed)
    }

    @Test func aClientThatLeavesEndsTheExchangeInFlightOnce() {
        var midway = Self.forwarded()
        let hadExchange = midway.clientClosed()
        #expect(hadExchange)
        // Nothing is counted out twice, and a connection that comes up late is not attached.
        let again = midway.clientClosed()
        #expect(!again)
        let lateAttach = midway.upstreamAttached()
        #expect(!lateAttach)

        var idle = Machine()
        let idleHadExchange = idle.clientClosed()
        #expect(!idleHadExchange)
        #expect(idle.isClosed)
    }
}
