import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Accepts on a listening socket that other processes accept on too: during a hot restart
/// the old and the new router both hold the supervisor's socket. Each process's poll wakes
/// for a connection only one of them gets, so an accept that finds the queue empty is the
/// normal case here. NIO's server channel holds that to be impossible after a readable
/// event (an `assert` in `BaseSocketChannel.readable0`, which stopped a debug-built router
/// at random during restarts), so a thread of our own polls and accepts, and hands each
/// connection to NIO as an already connected socket.
final class SharedSocketAcceptor: Sendable {
    /// How often the thread looks at the stop flag while no connection comes.
    private static let pollInterval: Int32 = 20
    /// How long to wait after the process ran out of descriptors, before accepting again.
    private static let backoff: UInt32 = 100_000

    private let descriptor: Int32
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)

    /// Starts accepting at once; `handOver` gets each accepted descriptor (close-on-exec)
    /// and owns it from then on.
    init(descriptor: Int32, logger: Logger, handOver: @escaping @Sendable (Int32) -> Void) {
        self.descriptor = descriptor
        self.logger = logger
        let thread = Thread { [self] in
            run(handOver)
            finished.store(true, ordering: .releasing)
        }
        thread.start()
    }

    /// The port the socket is bound to.
    var port: Int {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard bound == 0 else { return 0 }
        let family = Int32(address.ss_family)
        return withUnsafePointer(to: &address) { pointer in
            switch family {
            case AF_INET: pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            case AF_INET6: pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            default: 0
            }
        }
    }

    private func run(_ handOver: @Sendable (Int32) -> Void) {
        var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while !stopping.load(ordering: .acquiring) {
            ready.revents = 0
            guard poll(&ready, 1, Self.pollInterval) > 0 else { continue }
            acceptQueued(handOver)
        }
        // This process's copy only: the supervisor's and the other router's stay open.
        close(descriptor)
    }

    /// Accepts until the queue is empty (another process may have emptied it first).
    private func acceptQueued(_ handOver: @Sendable (Int32) -> Void) {
        while !stopping.load(ordering: .acquiring) {
            let connection = accept(descriptor, nil, nil)
            if connection >= 0 {
                _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
                handOver(connection)
                continue
            }
            switch errno {
            case EAGAIN, EWOULDBLOCK: return
            case EINTR, ECONNABORTED, EPROTO: continue
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                logger.warning("cannot accept: \(String(cString: strerror(errno))); waiting 100 ms")
                usleep(Self.backoff)
                return
            default:
                logger.error("accept on the inherited socket failed: \(String(cString: strerror(errno)))")
                usleep(Self.backoff)
                return
            }
        }
    }

    /// Stops accepting and returns once the thread has let the socket go: what waits in
    /// its queue is left to the other processes that hold it.
    func stop() async {
        stopping.store(true, ordering: .releasing)
        let deadline = ContinuousClock.now + .seconds(1)
        while !finished.load(ordering: .acquiring), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
