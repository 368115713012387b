import CCurl

/// A failed transfer, classified the way the harness reasons about it: was the
/// connection refused, reset, timed out, or cut short after a partial response?
package struct CurlError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The libcurl result code (`CURLcode`).
    package let code: Int
    /// libcurl's detailed message for this transfer, when it gave one.
    package let detail: String

    package init(code: Int, detail: String) {
        self.code = code
        self.detail = detail
    }

    /// What kind of transport failure this was.
    package enum Class: String, Sendable, CaseIterable {
        /// Nothing listened: connection refused or could not connect.
        case refused
        /// The peer reset the connection or sent nothing at all.
        case reset
        /// The operation (connect or transfer) ran out of time.
        case timeout
        /// The body or stream ended before what the headers promised.
        case partial
        /// Anything else (bad URL, resolver, protocol errors).
        case other
    }

    package var errorClass: Class {
        switch code {
        case Int(CURLE_COULDNT_CONNECT.rawValue): .refused
        case Int(CURLE_RECV_ERROR.rawValue), Int(CURLE_SEND_ERROR.rawValue), Int(CURLE_GOT_NOTHING.rawValue): .reset
        case Int(CURLE_OPERATION_TIMEDOUT.rawValue): .timeout
        case Int(CURLE_PARTIAL_FILE.rawValue): .partial
        default: .other
        }
    }

    package var description: String {
        let name = String(cString: curl_easy_strerror(CURLcode(rawValue: UInt32(code))))
        return detail.isEmpty ? "curl error \(code) (\(errorClass.rawValue)): \(name)" : "curl error \(code) (\(errorClass.rawValue)): \(detail)"
    }
}
