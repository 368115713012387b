import NIOCore

/// Idle keep-alive connections to each environment, for one event loop. Only touched
/// on its own loop, so it needs no lock; the proxy and upstream handlers live there too.
final class UpstreamPool {
    /// Kept as their handlers, which hold the connection and take the next exchange. One
    /// array per environment (no hashing on the request path).
    private var blue: [UpstreamHandler] = []
    private var green: [UpstreamHandler] = []
    /// Idle connections kept per environment; more are closed.
    let capacity: Int
    private(set) var closed = false

    init(capacity: Int = 512) {
        self.capacity = capacity
    }

    /// An open idle connection to `environment`, if there is one.
    func take(_ environment: Environment) -> UpstreamHandler? {
        while let upstream = environment == .blue ? blue.popLast() : green.popLast() {
            if upstream.channel?.isActive == true { return upstream }
        }
        return nil
    }

    /// Returns a connection whose last exchange ended cleanly.
    func put(_ upstream: UpstreamHandler) {
        guard let channel = upstream.channel else { return }
        let count = upstream.environment == .blue ? blue.count : green.count
        guard !closed, channel.isActive, count < capacity else {
            channel.close(promise: nil)
            return
        }
        if upstream.environment == .blue { blue.append(upstream) } else { green.append(upstream) }
    }

    /// Forgets a connection that closed while idle.
    func remove(_ upstream: UpstreamHandler) {
        if upstream.environment == .blue { blue.removeAll { $0 === upstream } } else { green.removeAll { $0 === upstream } }
    }

    /// Closes every idle connection; later returns are closed too.
    func closeAll() {
        closed = true
        for upstream in blue + green { upstream.channel?.close(promise: nil) }
        blue = []
        green = []
    }
}
