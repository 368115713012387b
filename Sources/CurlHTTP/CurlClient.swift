import Dispatch

/// An async HTTP client on one libcurl easy handle: requests run one after another on
/// a private queue, so the connection is kept alive between them and the blocking
/// transfer never occupies a Swift concurrency thread.
///
/// `@unchecked Sendable`: the easy handle is only ever touched on `queue`, which is serial.
package final class CurlClient: @unchecked Sendable {
    private let queue = DispatchQueue(label: "cutover.curl-client")
    private let easy = CurlEasy()

    package init() {}

    /// Sends a request and returns the response; transport failures are in `response.error`.
    package func send(_ request: CurlRequest) async -> CurlResponse {
        await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: self.easy.perform(request))
            }
        }
    }

    package func get(_ url: String, headers: [(name: String, value: String)] = [], timeoutMs: Int = 30_000) async -> CurlResponse {
        await send(CurlRequest(url: url, headers: headers, timeoutMs: timeoutMs))
    }

    package func post(_ url: String, json: String, headers: [(name: String, value: String)] = [], timeoutMs: Int = 30_000) async -> CurlResponse {
        await send(.json(url: url, json, headers: headers, timeoutMs: timeoutMs))
    }
}
