import HTTPServerCore
import NIOCore
import NIOHTTP1

/// An error in OpenAI's shape: `{"error":{"message","type","param","code"}}`.
package struct OpenAIError: Error, Sendable, Equatable {
    package var status: HTTPResponseStatus
    package var message: String
    package var type: String
    package var param: String?
    package var code: String?

    package init(status: HTTPResponseStatus, message: String, type: String = "invalid_request_error", param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    package var json: JSON {
        .object([
            (
                "error",
                .object([
                    ("message", .string(message)),
                    ("type", .string(type)),
                    ("param", .optional(param)),
                    ("code", .optional(code)),
                ])
            )
        ])
    }

    package var body: ByteBuffer { ByteBuffer(string: json.text) }

    /// What the error says, as both ends of an exchange digest it.
    package var contentDigest: UInt64 { ExchangeFingerprint.error(message: message, type: type, param: param, code: code) }

    /// The error a relay returns for an injected status, in the words OpenAI uses.
    package static func injected(status code: Int, message: String?) -> OpenAIError {
        let status = HTTPResponseStatus(statusCode: code)
        switch code {
        case 400:
            return OpenAIError(status: status, message: message ?? "Bad request.", type: "invalid_request_error")
        case 401:
            return OpenAIError(status: status, message: message ?? "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key")
        case 403:
            return OpenAIError(status: status, message: message ?? "You are not allowed to access this resource.", type: "permission_error")
        case 404:
            return OpenAIError(status: status, message: message ?? "Not found.", type: "invalid_request_error", code: "not_found")
        case 429:
            return OpenAIError(
                status: status, message: message ?? "Rate limit reached for requests. Please try again later.", type: "requests", code: "rate_limit_exceeded")
        case 400..<500:
            return OpenAIError(status: status, message: message ?? "The request was rejected (\(code)).", type: "invalid_request_error")
        case 503:
            return OpenAIError(
                status: status, message: message ?? "The engine is currently overloaded, please try again later.", type: "server_error",
                code: "service_unavailable")
        default:
            return OpenAIError(
                status: status, message: message ?? "The server had an error while processing your request. Sorry about that!", type: "server_error")
        }
    }
}
