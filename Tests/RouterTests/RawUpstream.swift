import Foundation
import Synchronization

/// An upstream that speaks raw bytes, for what the mock relay never sends: responses framed
/// by the close, chunked trailers, interim 1xx responses, malformed heads. It records each
/// request as it arrived and answers from `respond` (the request's text → the response's
/// bytes, and whether to close after it). Blocking sockets on their own threads; `stop()`
/// closes the listener.
final class RawUpstream: Sendable {
    struct Answer: Sendable {
        var bytes: String
        var close = false
    }

    let port: UInt16
    private let listener: Int32
    private let state = Record()

    /// What the upstream saw, shared with its connection threads.
    private final class Record: Sendable {
        let mutex = Mutex<(requests: [String], connections: Int)>(([], 0))
        func withLock<T>(_ body: (inout (requests: [String], connections: Int)) -> T) -> T { mutex.withLock { body(&$0) } }
    }

    init(respond: @escaping @Sendable (String) -> Answer) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 64) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard fd >= 0, bound else { throw RawSocket.Failure(description: "the raw upstream could not listen") }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        let state = self.state
        Thread.detachNewThread {
            while true {
                let connection = accept(fd, nil, nil)
                guard connection >= 0 else { return }
                state.withLock { $0.connections += 1 }
                Thread.detachNewThread { Self.serve(connection, state: state, respond: respond) }
            }
        }
    }

    /// Requests received so far, each as its head and body text.
    var requests: [String] { state.withLock { $0.requests } }
    /// Connections accepted so far.
    var connections: Int { state.withLock { $0.connections } }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private static func serve(_ fd: Int32, state: Record, respond: @Sendable (String) -> Answer) {
        defer { close(fd) }
        var pending: [UInt8] = []
        while true {
            guard let request = readRequest(fd, &pending) else { return }
            state.withLock { $0.requests.append(request) }
            let answer = respond(request)
            let bytes = Array(answer.bytes.utf8)
            guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count, !answer.close else { return }
        }
    }

    /// One request: its head, then a Content-Length body or a chunked one up to `0\r\n\r\n`.
    private static func readRequest(_ fd: Int32, _ pending: inout [UInt8]) -> String? {
        func fill() -> Bool {
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return false }
            pending += chunk[0..<n]
            return true
        }
        let headEnd = Array("\r\n\r\n".utf8)
        var end: Int?
        while end == nil {
            end = pending.indices.first { pending[$0...].starts(with: headEnd) }.map { $0 + 4 }
            if end == nil, !fill() { return nil }
        }
        let head = String(decoding: pending[..<end!], as: UTF8.self)
        let lower = head.lowercased()
        var total = end!
        if let line = lower.components(separatedBy: "\r\n").first(where: { $0.hasPrefix("content-length:") }) {
            total += Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0
            while pending.count < total { guard fill() else { return nil } }
        } else if lower.contains("transfer-encoding: chunked") {
            let last = Array("0\r\n\r\n".utf8)
            while !pending[end!...].indices.contains(where: { pending[$0...].starts(with: last) }) { guard fill() else { return nil } }
            total = pending[end!...].indices.first { pending[$0...].starts(with: last) }! + last.count
        }
        let request = String(decoding: pending[..<total], as: UTF8.self)
        pending.removeFirst(total)
        return request
    }
}
