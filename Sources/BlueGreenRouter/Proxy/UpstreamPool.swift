import NIOCore

/// Idle keep-alive connections to each environment, for one event loop. Only touched
/// on its own loop, so it needs no lock; the proxy and upstream handlers live there too.
final class UpstreamPool {
    /// Kept as their handlers, which hold the connection and take the next exchange.
    private var idle: [Environment: [UpstreamHandler]] = [.blue: [], .green: []]
    /// Idle connections kept per environment; more are closed.
    let capacity: Int
    private(set) var closed = false

    init(capacity: Int = 512) {
        self.capacity = capacity
    }

    /// An open idle connection to `environment`, if there is one.
    func take(_ environment: Environment) -> UpstreamHandler? {
        while let upstream = idle[environment]!.popLast() {
            if upstream.channel?.isActive == true { return upstream }
        }
        return nil
    }

    /// Returns a connection whose last exchange ended cleanly.
    func put(_ upstream: UpstreamHandler) {
        guard let channel = upstream.channel else { return }
        guard !closed, channel.isActive, idle[upstream.environment]!.count < capacity else {
            channel.close(promise: nil)
            return
        }
        idle[upstream.environment]!.append(upstream)
    }

    /// Forgets a connection that closed while idle.
    func remove(_ upstream: UpstreamHandler) {
        idle[upstream.environment]!.removeAll { $0 === upstream }
    }

    /// Closes every idle connection; later returns are closed too.
    func closeAll() {
        closed = true
        for environment in Environment.allCases {
            for upstream in idle[environment]! { upstream.channel?.close(promise: nil) }
            idle[environment] = []
        }
    }
}
