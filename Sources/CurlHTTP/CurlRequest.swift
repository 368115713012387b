/// One HTTP request for the libcurl client.
package struct CurlRequest: Sendable {
    package var method: String
    package var url: String
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]?
    /// Whole-transfer limit; a hung upstream ends as a `timeout` error.
    package var timeoutMs: Int
    package var connectTimeoutMs: Int

    package init(
        method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
        timeoutMs: Int = 30_000, connectTimeoutMs: Int = 5_000
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMs = timeoutMs
        self.connectTimeoutMs = connectTimeoutMs
    }

    /// A POST with a JSON body.
    package static func json(_ method: String = "POST", url: String, _ body: String, headers: [(name: String, value: String)] = [], timeoutMs: Int = 30_000)
        -> CurlRequest
    {
        CurlRequest(method: method, url: url, headers: [("Content-Type", "application/json")] + headers, body: Array(body.utf8), timeoutMs: timeoutMs)
    }
}
