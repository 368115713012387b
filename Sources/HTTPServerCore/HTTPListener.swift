import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP/1.1 listener that carries out its responder's `ResponsePlan`s. It can close its listening socket and bind the
/// same port again later, which is what an `outage: refuse` fault needs.
package final class HTTPListener: Sendable {
    package let host: String
    let registry = ConnectionRegistry()
    private let group: any EventLoopGroup
    private let responder: any HTTPResponder
    private let logger: Logger
    private let state = NIOLockedValueBox<State>(State())
    private let wheels: PacingWheels
    /// How late paced stream frames left, across this listener's connections.
    package let pacing = LatenessStats()
    /// Accepts that failed (a full descriptor table, …).
    package let acceptFailures = AcceptFailures()

    private struct State {
        var channel: (any Channel)?
        var port = 0
        var shutDown = false
    }

    package init(host: String, group: any EventLoopGroup, responder: any HTTPResponder, logger: Logger) {
        self.host = host
        self.group = group
        self.responder = responder
        self.logger = logger
        self.wheels = PacingWheels(group: group)
    }

    /// The bound port (0 before the first bind).
    package var port: Int { state.withLockedValue { $0.port } }

    /// Connections currently open on this listener.
    package var openConnections: Int { registry.openCount }

    /// Whether the listening socket is open.
    package var isListening: Bool { state.withLockedValue { $0.channel != nil } }

    /// Binds `port` (0 for an ephemeral one) and returns the port bound.
    package func bind(port: Int) async throws -> Int {
        // Room for many connections before the first arrives (see FileDescriptorTable).
        FileDescriptorTable.reserve(16_384)
        let registry = self.registry
        let responder = self.responder
        let logger = self.logger
        let wheels = self.wheels
        let pacing = self.pacing
        let acceptFailures = self.acceptFailures
        let channel = try await ServerBootstrap(group: group)
            .cutoverServerDefaults()
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Backs off reading the listener while accepts fail, and counts them.
                    try channel.pipeline.syncOperations.addHandler(AcceptBackoffHandler())
                    try channel.pipeline.syncOperations.addHandler(AcceptFailures.Counter(acceptFailures))
                }
            }
            .childChannelInitializer { channel in
                registry.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPConnectionHandler(
                            responder: responder, registry: registry, wheel: wheels.wheel(on: channel.eventLoop), pacing: pacing, logger: logger))
                }
            }
            .bind(host: host, port: port)
            .get()
        let bound = channel.localAddress?.port ?? port
        let stale: (any Channel)? = state.withLockedValue { state in
            if state.shutDown { return channel }
            state.channel = channel
            state.port = bound
            return nil
        }
        if let stale { try? await stale.close() }
        return bound
    }

    /// Closes the listening socket: new connections are refused. Open connections are
    /// aborted too, as they would be if the upstream process had died; `cause` (a fault id)
    /// is recorded as what cut the exchanges they carried.
    package func refuse(cause: String? = nil) async {
        let channel = state.withLockedValue { state in
            defer { state.channel = nil }
            return state.channel
        }
        try? await channel?.close()
        await registry.broadcast(.outage(cause: cause))
    }

    /// Binds the same port again after `refuse()`.
    package func reopen() async throws {
        let (port, needed) = state.withLockedValue { ($0.port, $0.channel == nil && !$0.shutDown) }
        guard needed else { return }
        _ = try await bind(port: port)
    }

    /// Closes hung connections (their hang fault was removed).
    package func releaseHung() async {
        await registry.broadcast(.releaseHung, onlyHung: true)
    }

    /// Stops listening and closes every connection.
    package func shutdown() async {
        let channel = state.withLockedValue { state in
            state.shutDown = true
            defer { state.channel = nil }
            return state.channel
        }
        try? await channel?.close()
        await registry.broadcast(.shutdown)
    }
}
