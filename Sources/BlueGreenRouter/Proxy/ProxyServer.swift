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
    /// (each answer says `Connection: close`) before it closes the ones left idle: clients
    /// that keep pools send on them for a while, and a connection closed under a request
    /// loses it. A client that sends on none of them for this long meets the race only then.
    static let idleGrace: Duration = .seconds(2)

    /// How long a drain waits at least, for the connections accepted as the listener closed.
    static let acceptSettle: Duration = .milliseconds(250)

    private let host: String
    private let group: any EventLoopGroup
    private let proxy: ProxyContext
    private let logger: Logger
    private let state = NIOLockedValueBox<State>(State())

    private struct State {
        var listener: (any Channel)?
        var clients: [ObjectIdentifier: any Channel] = [:]
    }

    init(host: String, group: any EventLoopGroup, proxy: ProxyContext, logger: Logger) {
        self.host = host
        self.group = group
        self.proxy = proxy
        self.logger = logger
    }

    /// Binds the listener and returns its port.
    func bind(port: Int) async throws -> Int {
        let channel = try await bootstrap()
            // A hot restart binds the new process to the same port before the old one drains.
            // When the old one then closes its listener, the connections still in its accept
            // queue are reset: a supervisor that hands both the same socket avoids that (`adopt`).
            .serverChannelOption(ChannelOptions.socket(SocketOptionLevel(SOL_SOCKET), SO_REUSEPORT), value: 1)
            .bind(host: host, port: port)
            .get()
        state.withLockedValue { $0.listener = channel }
        return channel.localAddress?.port ?? port
    }

    /// Accepts on a listening socket this process inherited (as inetd and systemd hand one
    /// over) and returns its port. The supervisor keeps the socket open, so a process that
    /// drains or dies leaves the connections waiting to be accepted to the next one.
    func adopt(_ descriptor: Int32) async throws -> Int {
        let channel = try await bootstrap().withBoundSocket(descriptor).get()
        state.withLockedValue { $0.listener = channel }
        return channel.localAddress?.port ?? 0
    }

    /// The listener's bootstrap: every accepted connection is a `ProxyHandler`, and is
    /// counted until it closes.
    private func bootstrap() -> ServerBootstrap {
        // Each client connection costs two descriptors (the client's and the upstream's).
        FileDescriptorTable.reserve(32_768)
        let proxy = self.proxy
        let logger = self.logger
        let state = self.state
        return ServerBootstrap(group: group)
            .cutoverServerDefaults()
            .childChannelInitializer { channel in
                state.withLockedValue { $0.clients[ObjectIdentifier(channel)] = channel }
                channel.closeFuture.whenComplete { _ in
                    state.withLockedValue { _ = $0.clients.removeValue(forKey: ObjectIdentifier(channel)) }
                }
                return channel.eventLoop.makeCompletedFuture {
                    // Bytes straight to the proxy: it reads HTTP/1.x itself (see `MessageHead`).
                    try channel.pipeline.syncOperations.addHandler(ProxyHandler(proxy: proxy, logger: logger))
                }
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
        try? await listener?.close()
        for channel in state.withLockedValue({ Array($0.clients.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(DrainEvent())
        }
        let started = ContinuousClock.now
        let deadline = started + timeout
        let graceEnd = started + min(timeout, Self.idleGrace)
        // Connections the listener accepted just before it closed are still being set up on
        // their event loops, not yet counted: leaving at once would close them unread.
        let settled = started + min(timeout, Self.acceptSettle)
        while ContinuousClock.now < deadline,
            proxy.state.inFlight > 0 || ContinuousClock.now < settled || (ContinuousClock.now < graceEnd && openConnections > 0)
        {
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
