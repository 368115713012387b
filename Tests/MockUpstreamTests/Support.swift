import ConfigInput
import CurlHTTP
import Cutover
@_exported import CutoverTestSupport
import Foundation
import HTTPServerCore
import MockUpstream
import Testing

/// A chat completion request body.
func chatBody(model: String = "gpt-4.1", maxTokens: Int? = 8, stream: Bool = false, includeUsage: Bool = false, prompt: String = "Say something") -> String {
    var fields = [#""model":\#(JSON.quoted(model))"#, #""messages":[{"role":"user","content":\#(JSON.quoted(prompt))}]"#]
    if let maxTokens { fields.append(#""max_tokens":\#(maxTokens)"#) }
    if stream { fields.append(#""stream":true"#) }
    if includeUsage { fields.append(#""stream_options":{"include_usage":true}"#) }
    return "{" + fields.joined(separator: ",") + "}"
}

/// The response body as a JSON object.
func object(_ response: CurlResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(response.body))
    return try #require(value as? [String: Any], "body is not a JSON object: \(response.text)", sourceLocation: sourceLocation)
}

/// The `data:` payloads of a stream that are JSON objects.
func jsonEvents(_ response: CurlResponse) -> [[String: Any]] {
    response.events.compactMap { event in
        guard !event.isDone, let data = event.data.data(using: .utf8) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}

/// Sends the admin API a request with a JSON body.
func admin(_ mock: MockUpstream, _ method: String, _ path: String, _ body: String? = nil) async -> CurlResponse {
    let client = CurlClient()
    return await client.send(
        CurlRequest(
            method: method, url: mock.adminURL + path, headers: body == nil ? [] : [("Content-Type", "application/json")],
            body: body.map { Array($0.utf8) }))
}

/// The `error` object of an error response, or an empty one if the body has none.
func errorInfo(_ response: CurlResponse) -> [String: Any] {
    let body = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
    return body?["error"] as? [String: Any] ?? [:]
}

/// One kept-alive loopback connection driven by hand, for what an HTTP client hides:
/// whether and when the server closes an idle connection.
final class RawConnection {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let fd: Int32
    private var buffered: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect() failed")
        }
    }

    deinit { close(fd) }

    /// Sends `GET path` and reads one whole Content-Length answer; returns its head.
    func get(_ path: String) throws -> String {
        let request = Array("GET \(path) HTTP/1.1\r\nHost: mock\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else {
            throw Failure(description: "send() failed")
        }
        while true {
            if let end = buffered.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: buffered[..<end.lowerBound], as: UTF8.self)
                let length =
                    head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if buffered.count >= end.upperBound + length {
                    buffered.removeFirst(end.upperBound + length)
                    return head
                }
            }
            guard try readMore() else { throw Failure(description: "closed before a whole answer") }
        }
    }

    /// Blocks until the server closes (true) or `timeoutSeconds` pass with it open (false).
    func waitForClose() throws -> Bool {
        while try readMore() {}
        return true
    }

    private func readMore() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 {
            buffered += chunk[0..<n]
            return true
        }
        if n == 0 { return false }
        if errno == EAGAIN || errno == EWOULDBLOCK { throw Failure(description: "no close within the receive timeout") }
        return false
    }
}
