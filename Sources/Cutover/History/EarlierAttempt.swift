/// One attempt of a request that libcurl gave up on and sent again: libcurl does that,
/// silently, when a reused connection dies before the first response byte (a POST
/// included). The router closed the connection with the request on it; RFC 9112 §9.3.1
/// lets a client resend only idempotent requests on its own, so for a POST the client's
/// user saw an error, whatever the replay got.
package struct EarlierAttempt: Sendable, Equatable, Codable {
    /// When libcurl sent it, µs on the run clock.
    package var sentUs: UInt32
    /// When libcurl gave up on it and sent the request again.
    package var endedUs: UInt32
    /// The local port of the connection it went out on.
    package var localPort: UInt16
    /// Request bytes libcurl had written for it (head and body), when it can say.
    package var requestBytes: UInt32
    /// Response bytes it got (head and body) before the connection died.
    package var responseBytes: UInt32

    package init(sentUs: UInt32, endedUs: UInt32, localPort: UInt16, requestBytes: UInt32, responseBytes: UInt32) {
        self.sentUs = sentUs
        self.endedUs = endedUs
        self.localPort = localPort
        self.requestBytes = requestBytes
        self.responseBytes = responseBytes
    }

    enum CodingKeys: String, CodingKey {
        case sentUs = "sent_us", endedUs = "ended_us", localPort = "local_port", requestBytes = "request_bytes", responseBytes = "response_bytes"
    }

    /// How it ended, in words for a report.
    package var description: String {
        "sent at \(Double(sentUs) / 1e6)s on port \(localPort) (\(requestBytes) request bytes), no answer after \(Double(endedUs &- sentUs) / 1000) ms (\(responseBytes) response bytes)"
    }
}
