import Foundation
import HTTPServerCore

/// The parts of a chat completion request the mock uses; other parameters
/// (temperature, tools, …) are accepted and ignored, as a relay would pass them on.
package struct ChatRequest: Sendable, Equatable {
    package var model: String
    package var stream: Bool
    package var includeUsage: Bool
    package var maxTokens: Int
    /// Whether the client set a token limit (finish_reason is then "length").
    package var maxTokensGiven: Bool
    /// Whitespace-separated words across all message texts: the mock's prompt token count.
    package var promptTokens: Int
    /// The text of the last message, which seeds the content.
    package var lastMessage: String
    /// `ExchangeFingerprint.messages` of the messages as received.
    package var messagesDigest: UInt64 = 0
    /// The request the body names (`RequestIdentity`), if it names one.
    package var identity: String?

    /// Default completion length when the request gives none.
    package static let defaultMaxTokens = 16
    /// Upper bound on requested tokens, to keep responses bounded.
    package static let maxAllowedTokens = 100_000

    /// The model and stream flag, read leniently so faults can match even invalid requests.
    package static func peek(_ bytes: [UInt8]) -> (model: String?, stream: Bool) {
        guard let probe = try? JSONDecoder().decode(Probe.self, from: Data(bytes)) else { return (nil, false) }
        return (probe.model, probe.stream ?? false)
    }

    private struct Probe: Decodable {
        var model: String?
        var stream: Bool?
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Wire.CodingKeys.self)
            model = try? c.decodeIfPresent(String.self, forKey: .model)
            stream = try? c.decodeIfPresent(Bool.self, forKey: .stream)
        }
    }

    /// Parses and validates a request body, with OpenAI's 400 errors.
    package static func parse(_ bytes: [UInt8]) throws(OpenAIError) -> ChatRequest {
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: Data(bytes))
        } catch let DecodingError.typeMismatch(type, context) {
            throw invalidType(context.codingPath, expected: type)
        } catch let DecodingError.valueNotFound(type, context) {
            throw invalidType(context.codingPath, expected: type)
        } catch {
            throw OpenAIError(
                status: .badRequest,
                message:
                    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"
            )
        }
        guard let model = wire.model else {
            throw OpenAIError(status: .badRequest, message: "you must provide a model parameter", param: "model", code: "missing_required_parameter")
        }
        guard let messages = wire.messages else {
            throw OpenAIError(status: .badRequest, message: "Missing required parameter: 'messages'.", param: "messages", code: "missing_required_parameter")
        }
        guard !messages.isEmpty else {
            throw OpenAIError(
                status: .badRequest, message: "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                param: "messages", code: "empty_array")
        }
        for (index, message) in messages.enumerated() where message.role == nil {
            throw OpenAIError(
                status: .badRequest, message: "Missing required parameter: 'messages[\(index)].role'.", param: "messages[\(index)].role",
                code: "missing_required_parameter")
        }
        let limitKey = wire.max_completion_tokens != nil ? "max_completion_tokens" : "max_tokens"
        let limit = wire.max_completion_tokens ?? wire.max_tokens
        if let limit, !(1...maxAllowedTokens).contains(limit) {
            throw OpenAIError(
                status: .badRequest,
                message:
                    "Invalid '\(limitKey)': integer \(limit < 1 ? "below minimum value" : "above maximum value"). Expected a value between 1 and \(maxAllowedTokens), but got \(limit) instead.",
                param: limitKey, code: limit < 1 ? "integer_below_min_value" : "integer_above_max_value")
        }
        let texts = messages.map { $0.content?.text ?? "" }
        let words = texts.reduce(0) { $0 + $1.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).count }
        let last = texts.last ?? ""
        return ChatRequest(
            model: model,
            stream: wire.stream ?? false,
            includeUsage: wire.stream_options?.include_usage ?? false,
            maxTokens: limit ?? defaultMaxTokens,
            maxTokensGiven: limit != nil,
            promptTokens: max(1, words),
            lastMessage: last,
            messagesDigest: ExchangeFingerprint.messages(zip(messages, texts).map { (role: $0.role ?? "", text: $1) }),
            identity: RequestIdentity.find(in: last))
    }

    private static func invalidType(_ path: [any CodingKey], expected: Any.Type) -> OpenAIError {
        let param = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            .trimmingCharacters(in: CharacterSet(charactersIn: "."))
            .replacingOccurrences(of: ".[", with: "[")
        return OpenAIError(status: .badRequest, message: "Invalid type for '\(param)': expected \(typeName(expected)).", param: param, code: "invalid_type")
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type: "an integer"
        case is [Wire.Message].Type: "an array of messages"
        default: "a different type"
        }
    }

    /// The request as sent; field names are OpenAI's.
    private struct Wire: Decodable {
        enum CodingKeys: String, CodingKey { case model, messages, stream, stream_options, max_tokens, max_completion_tokens }
        var model: String?
        var messages: [Message]?
        var stream: Bool?
        var stream_options: StreamOptions?
        var max_tokens: Int?
        var max_completion_tokens: Int?

        struct StreamOptions: Decodable {
            var include_usage: Bool?
        }

        struct Message: Decodable {
            var role: String?
            var content: Content?
        }

        /// A message's content: a string or a list of parts with text.
        enum Content: Decodable {
            case text(String)
            case parts([Part])

            struct Part: Decodable { var text: String? }

            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let s = try? c.decode(String.self) {
                    self = .text(s)
                } else {
                    self = .parts(try c.decode([Part].self))
                }
            }

            var text: String {
                switch self {
                case .text(let s): s
                case .parts(let parts): parts.compactMap(\.text).joined(separator: " ")
                }
            }
        }
    }
}
