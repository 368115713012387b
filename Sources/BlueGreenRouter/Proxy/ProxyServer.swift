import HTTPServerCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// The client-facing listener of the router, and the set of open client connections
/// that draining has to wait for.
final class ProxyServer: Sendable {
    /// Sent to every client connection when draining starts: its next response is its last.
    struct DrainEvent: Sendable {}

    /// How long a draining router still answers requests on its idle keep-alive connections
    /// (each answer says `Connection: close`) before it closes the ones left idle, counted
    /// from the last exchange's end: clients that keep pools send on them for a while, and a
    /// connection closed under a request loses it. A client that sends on none of them for
    /// this long meets the race only then.
    static let idleGrace: Duration = .seconds(2)

    /// How long a drain waits at least, for the connections accepted as the listener closed.
    static let acceptSettle: Duration = .milliseconds(250)

    private let host: String
    private let group: any EventLoopGroup
    private let proxy: ProxyContext
    private let logger: Logger
    private let state = NIOLockedValueBox<State>(State())

    private struct State {
        var listener: Listener?
        var clients: [ObjectIdentifier: any Channel] = [:]
    }

    /// Where connections come from: a socket this process bound, or one it shares.
    private enum Listener {
        case bound(any Channel)
        case shared(SharedSocketAcceptor)

        func close() async {
            switch self {
            case .bound(let channel): try? await channel.close()
            case .shared(let acceptor): await acceptor.stop()
            }
        }
    }

    init(host: String, group: any EventLoopGroup, proxy: ProxyContext, logger: Logger) {
        self.host = host
        self.group = group
        self.proxy = proxy
        self.logger = logger
        // Each client connection costs two descriptors (the client's and the upstream's).
        FileDescriptorTable.reserve(32_768)
    }

    /// Binds the listener and returns its port.
    func bind(port: Int) async throws -> Int {
        let channel = try await ServerBootstrap(group: group)
            .cutoverServerDefaults()
            .childChannelInitializer { [self] channel in serve(channel) }
            // A hot restart binds the new process to the same port before the old one drains.
            // When the old one then closes its listener, the connections still in its accept
            // queue are reset: a supervisor that hands both the same socket avoids that (`adopt`).
            .serverChannelOption(ChannelOptions.socket(SocketOptionLevel(SOL_SOCKET), SO_REUSEPORT), value: 1)
            .bind(host: host, port: port)
            .get()
        state.withLockedValue { $0.listener = .bound(channel) }
        return channel.localAddress?.port ?? port
    }

    /// Accepts on a listening socket this process inherited (as inetd and systemd hand one
    /// over) and returns its port. The supervisor keeps the socket open, so a process that
    /// drains or dies leaves the connections waiting to be accepted to the next one.
    func adopt(_ descriptor: Int32) -> Int {
        let logger = self.logger
        let acceptor = SharedSocketAcceptor(descriptor: descriptor, logger: logger) { [self] connection in
            ClientBootstrap(group: group)
                .cutoverAcceptedDefaults()
                .channelInitializer { [self] channel in serve(channel) }
                .withConnectedSocket(connection)
                .whenFailure { error in logger.warning("an accepted connection could not be served: \(error)") }
        }
        state.withLockedValue { $0.listener = .shared(acceptor) }
        return acceptor.port
    }

    /// Makes an accepted connection a `ProxyHandler`, counted until it closes (each costs
    /// two descriptors: the client's and the upstream's).
    private func serve(_ channel: any Channel) -> EventLoopFuture<Void> {
        state.withLockedValue { $0.clients[ObjectIdentifier(channel)] = channel }
        channel.closeFuture.whenComplete { [state] _ in
            state.withLockedValue { _ = $0.clients.removeValue(forKey: ObjectIdentifier(channel)) }
        }
        return channel.eventLoop.makeCompletedFuture { [proxy, logger] in
            // Bytes straight to the proxy: it reads HTTP/1.x itself (see `MessageHead`).
            try channel.pipeline.syncOperations.addHandler(ProxyHandler(proxy: proxy, logger: logger))
        }
    }

    var openConnections: Int { state.withLockedValue { $0.clients.count } }

    /// Stops accepting, lets in-flight requests and streams finish (up to `timeout`),
    /// then closes whatever is left. Returns the number of requests cut by the timeout.
    func drain(timeout: Duration) async -> Int {
        proxy.startDraining()
        let listener = state.withLockedValue { state in
            defer { state.listener = nil }
            return state.listener
        }
        // A shared socket (`adopt`) stays open in the other processes that hold it: what
        // waits in its queue is the next process's.
        await listener?.close()
        for channel in state.withLockedValue({ Array($0.clients.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(DrainEvent())
        }
        let started = ContinuousClock.now
        let deadline = started + timeout
        // Connections the listener accepted just before it closed are still being set up on
        // their event loops, not yet counted: leaving at once would close them unread.
        let settled = started + min(timeout, Self.acceptSettle)
        // Idle connections get the grace from the last exchange's end, not the drain's
        // start: a response that began before the drain told its client the connection
        // stays, and that client may send on it as soon as the response ends.
        var lastBusy = started
        while ContinuousClock.now < deadline {
            let now = ContinuousClock.now
            if proxy.state.inFlight > 0 { lastBusy = now }
            guard proxy.state.inFlight > 0 || now < settled || (now < lastBusy + Self.idleGrace && openConnections > 0) else { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        let cut = max(0, proxy.state.inFlight)
        for channel in state.withLockedValue({ Array($0.clients.values) }) {
            try? await channel.close()
        }
        await proxy.closePools()
        return cut
    }
}
