import Foundation

/// HAProxy's runtime API on a Unix socket (the stats socket or the master CLI): one command
/// per connection, the write side closed after it, the answer read to EOF. Blocking I/O with a receive timeout, off the caller's executor.
struct HAProxyRuntimeAPI: Sendable {
    let socket: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends `command` and returns HAProxy's answer (trimmed).
    func send(_ command: String, timeout: Duration = .seconds(5)) async throws(Failure) -> String {
        let path = socket
        let result: Result<String, Failure> = await Task.detached { Self.exchange(command, path: path, timeout: timeout) }.value
        return try result.get()
    }

    private static func exchange(_ command: String, path: String, timeout: Duration) -> Result<String, Failure> {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .failure(Failure(description: "socket(): \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        var seconds = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return .failure(Failure(description: "socket path too long: \(path)")) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            return .failure(Failure(description: "cannot reach HAProxy's runtime API at \(path): \(String(cString: strerror(errno)))"))
        }
        let line = Array((command + "\n").utf8)
        guard line.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == line.count else {
            return .failure(Failure(description: "cannot send '\(command)' to HAProxy: \(String(cString: strerror(errno)))"))
        }
        shutdown(fd, Int32(SHUT_WR))
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            guard count > 0 else { return .failure(Failure(description: "no answer from HAProxy to '\(command)': \(String(cString: strerror(errno)))")) }
            answer.append(contentsOf: buffer[0..<count])
        }
        return .success(String(decoding: answer, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
