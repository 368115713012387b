import NIOCore

/// Idle keep-alive connections to each environment, for one event loop. Only touched
/// on its own loop, so it needs no lock; the proxy and upstream handlers live there too.
final class UpstreamPool {
    private var idle: [Environment: [any Channel]] = [.blue: [], .green: []]
    /// Idle connections kept per environment; more are closed.
    let capacity: Int
    private(set) var closed = false

    init(capacity: Int = 512) {
        self.capacity = capacity
    }

    /// An open idle connection to `environment`, if there is one.
    func take(_ environment: Environment) -> (any Channel)? {
        while let channel = idle[environment]!.popLast() {
            if channel.isActive { return channel }
        }
        return nil
    }

    /// Returns a connection whose last exchange ended cleanly.
    func put(_ channel: any Channel, _ environment: Environment) {
        guard !closed, channel.isActive, idle[environment]!.count < capacity else {
            channel.close(promise: nil)
            return
        }
        idle[environment]!.append(channel)
    }

    /// Forgets a connection that closed while idle.
    func remove(_ channel: any Channel, _ environment: Environment) {
        idle[environment]!.removeAll { $0 === channel }
    }

    /// Closes every idle connection; later returns are closed too.
    func closeAll() {
        closed = true
        for environment in Environment.allCases {
            for channel in idle[environment]! { channel.close(promise: nil) }
            idle[environment] = []
        }
    }
}
