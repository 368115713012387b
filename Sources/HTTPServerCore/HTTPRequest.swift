import NIOCore
import NIOHTTP1

/// A whole HTTP request as the responders see it (bodies are small and bounded).
package struct HTTPRequest: Sendable {
    package var head: HTTPRequestHead
    package var body: ByteBuffer
    /// 0 for the first request on its connection, 1 for the next (a reused keep-alive
    /// connection), and so on.
    package var indexOnConnection: Int = 0

    package init(head: HTTPRequestHead, body: ByteBuffer, indexOnConnection: Int = 0) {
        self.head = head
        self.body = body
        self.indexOnConnection = indexOnConnection
    }

    package var method: HTTPMethod { head.method }
    package var path: Substring { head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }

    /// Query parameters, percent-decoding left out (the admin API takes only numbers).
    package var query: [String: String] {
        guard let q = head.uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
        var result: [String: String] = [:]
        for pair in q.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return result
    }

    package var bodyBytes: [UInt8] { Array(body.readableBytesView) }
}
