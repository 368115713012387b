/// One HTTP request for the libcurl client.
public struct CurlRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// Whole-transfer limit; a hung upstream ends as a `timeout` error.
    public var timeoutMs: Int
    public var connectTimeoutMs: Int

    public init(
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
    public static func json(_ method: String = "POST", url: String, _ body: String, headers: [(name: String, value: String)] = [], timeoutMs: Int = 30_000)
        -> CurlRequest
    {
        CurlRequest(method: method, url: url, headers: [("Content-Type", "application/json")] + headers, body: Array(body.utf8), timeoutMs: timeoutMs)
    }
}
