import NIOCore
import NIOPosix

extension ServerBootstrap {
    /// Defaults for Cutover's loopback servers: a deep accept backlog (load arrives in
    /// bursts), address reuse (a refused listener binds its port again), no Nagle delay
    /// (small responses and stream events go out at once), and batched reads.
    package func cutoverServerDefaults() -> ServerBootstrap {
        serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
    }
}

extension ClientBootstrap {
    /// The same per-connection defaults as `ServerBootstrap.cutoverServerDefaults()`, for a
    /// connection accepted elsewhere and handed over (`withConnectedSocket`).
    package func cutoverAcceptedDefaults() -> ClientBootstrap {
        channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(ChannelOptions.maxMessagesPerRead, value: 16)
    }
}
