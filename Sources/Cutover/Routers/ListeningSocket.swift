import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A listening TCP socket the harness holds for a router, as a supervisor does (inetd,
/// systemd's socket activation): each router process inherits it as its stdin and accepts
/// from it (`bluegreen-router --listen-fd 0`). It outlives every process, so connections
/// that wait in its queue while one process drains or dies are accepted by the next, where
/// two processes each with a socket of their own (SO_REUSEPORT) reset the queue of the one
/// that closes.
package struct ListeningSocket: Sendable {
    package let descriptor: Int32

    /// Binds `host` (an IPv4 address) on a free port and listens; the router's ready line
    /// says which.
    package init(host: String) throws(RouterError) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw RouterError(.notReady, "\(host) is not an IPv4 address") }
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw RouterError(.notReady, "socket(): \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 4_096) == 0 else {
            let reason = String(cString: strerror(errno))
            _ = Glibc.close(descriptor)
            throw RouterError(.notReady, "cannot listen on \(host): \(reason)")
        }
        self.descriptor = descriptor
    }

    /// The socket as a child's stdin (the child gets a copy; this one stays open).
    package var handle: FileHandle { FileHandle(fileDescriptor: descriptor, closeOnDealloc: false) }

    /// Closes the harness's copy: once no process holds it, the port is free.
    package func close() { _ = Glibc.close(descriptor) }
}
