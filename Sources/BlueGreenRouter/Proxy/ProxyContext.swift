import NIOCore
import NIOPosix
import Synchronization

/// What every proxy connection shares: the state, the upstream targets, the per-loop
/// connection pools, and whether the router is draining.
final class ProxyContext: Sendable {
    let state: RouterState
    private let blue: UpstreamTarget
    private let green: UpstreamTarget
    /// Lower-cased name of the session key header, as bytes to compare field names with.
    let sessionHeaderBytes: [UInt8]
    let connectTimeout: TimeAmount
    /// One pool per event loop, created on first use on that loop.
    private let pools: [ObjectIdentifier: NIOLoopBoundBox<UpstreamPool?>]
    private let drainingFlag = Synchronization.Atomic<Bool>(false)
    private let requestCounter = Synchronization.Atomic<UInt64>(0)
    private let idPrefix: [UInt8]

    init(state: RouterState, targets: [Environment: UpstreamTarget], sessionHeader: String, connectTimeout: TimeAmount, group: any EventLoopGroup) {
        self.state = state
        self.blue = targets[.blue]!
        self.green = targets[.green]!
        self.sessionHeaderBytes = Array(sessionHeader.lowercased().utf8)
        self.connectTimeout = connectTimeout
        var pools: [ObjectIdentifier: NIOLoopBoundBox<UpstreamPool?>] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeEmptyBox(valueType: UpstreamPool.self, eventLoop: loop)
        }
        self.pools = pools
        self.idPrefix = Array(("rtr-" + String(UInt32.random(in: 0...UInt32.max), radix: 16) + "-").utf8)
    }

    /// Where `environment`'s relay listens (no dictionary lookup on the request path).
    func target(_ environment: Environment) -> UpstreamTarget {
        environment == .blue ? blue : green
    }

    /// The pool of the loop this is called on.
    func pool(on loop: any EventLoop) -> UpstreamPool {
        let box = pools[ObjectIdentifier(loop)]!
        if let pool = box.value { return pool }
        let pool = UpstreamPool()
        box.value = pool
        return pool
    }

    var draining: Bool { drainingFlag.load(ordering: .acquiring) }

    func startDraining() { drainingFlag.store(true, ordering: .releasing) }

    /// A request id for requests that came without one: the router's prefix and a counter.
    func generateRequestID() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(idPrefix.count + 20)
        buffer.writeBytes(idPrefix)
        // A small string: no allocation below 10^15.
        buffer.writeString(String(requestCounter.add(1, ordering: .relaxed).newValue))
        return buffer
    }

    /// Closes every pooled idle connection (on shutdown).
    func closePools() async {
        for box in pools.values {
            try? await box.eventLoop.submit { box.value?.closeAll() }.get()
        }
    }
}
