import BlueGreenRouter
import ConfigInput
import CurlHTTP
import Cutover
@_exported import CutoverTestSupport
import Foundation
import HTTPServerCore
import Testing

/// Two mock upstreams and a router in front of them, all on loopback port 0.
struct Rig {
    let blue: MockUpstream
    let green: MockUpstream
    let router: BlueGreenRouter
    let client = CurlClient()

    var url: String { router.url }
    var adminURL: String { router.adminURL }

    /// A GET through the router with a session key; returns the serving environment.
    func environment(session: String) async -> String? {
        await client.get(url + "/v1/models", headers: [("X-Session-ID", session)]).header("X-Environment")
    }

    func admin(_ method: String, _ path: String, _ body: String? = nil, token: String? = nil) async -> CurlResponse {
        var headers: [(name: String, value: String)] = body == nil ? [] : [("Content-Type", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        return await CurlClient().send(
            CurlRequest(method: method, url: adminURL + path, headers: headers, body: body.map { Array($0.utf8) } ?? (method == "POST" ? [] : nil)))
    }

    /// Client requests a mock received (health checks excluded).
    func clientRequests(_ mock: MockUpstream) -> [LedgerEntry] {
        mock.ledger.entries().filter { !$0.requestID.hasPrefix("health-") }
    }
}

/// Starts the rig, runs `body`, and always stops everything (router first, so it drains).
func withRig<T>(
    configure: (inout RouterConfiguration) -> Void = { _ in },
    blue: MockConfiguration = MockConfiguration(name: "blue", seed: 1),
    green: MockConfiguration = MockConfiguration(name: "green", seed: 2),
    _ body: (Rig) async throws -> T
) async throws -> T {
    let blueMock = MockUpstream(configuration: blue)
    let greenMock = MockUpstream(configuration: green)
    try await blueMock.start()
    try await greenMock.start()
    var configuration = RouterConfiguration(
        blue: try UpstreamTarget(url: blueMock.url, field: "blue"), green: try UpstreamTarget(url: greenMock.url, field: "green"))
    configuration.healthInterval = nil
    configuration.drainTimeout = .seconds(5)
    configure(&configuration)
    let router = try BlueGreenRouter(configuration: configuration)
    do {
        try await router.start()
        let result = try await body(Rig(blue: blueMock, green: greenMock, router: router))
        await router.drain(timeout: .seconds(5))
        await blueMock.shutdown()
        await greenMock.shutdown()
        return result
    } catch {
        await router.drain(timeout: .seconds(1))
        await blueMock.shutdown()
        await greenMock.shutdown()
        throw error
    }
}

/// A chat completion body.
func chat(maxTokens: Int = 8, stream: Bool = false) -> String {
    #"{"model":"gpt-4.1","messages":[{"role":"user","content":"hello"}],"max_tokens":\#(maxTokens)\#(stream ? #","stream":true"# : "")}"#
}

func jsonObject(_ response: CurlResponse) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
}

/// A plain TCP exchange for what HTTP clients will not send (pipelined requests):
/// connect to loopback, send the bytes, read until the server closes.
enum RawSocket {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func exchange(port: UInt16, send text: String, timeoutSeconds: Int = 5) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect() failed") }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Foundation.send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            throw Failure(description: "send() failed")
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
