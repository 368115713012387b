import HTTPServerCore

/// The canonical forms that both ends of an exchange digest, so that the harness can say
/// whether the upstream received the request the client sent and whether the client got
/// the answer the upstream gave, without keeping either body:
/// - a request's messages: each message's role and text;
/// - an answer's content: a chat completion's text, finish reason and usage, a model
///   list's ids, an error's OpenAI fields.
/// JSON and SSE framing are not part of them, so a gateway that re-encodes an answer but
/// changes none of it gives the same content digest (`relay: semantic`).
package enum ExchangeFingerprint {
    /// A chat completion's token counts.
    package struct Usage: Sendable, Equatable {
        package var prompt: Int
        package var completion: Int
        package var total: Int

        package init(prompt: Int, completion: Int, total: Int) {
            self.prompt = prompt
            self.completion = completion
            self.total = total
        }
    }

    /// Between a message's role and its text: a byte UTF-8 text never holds.
    private static let roleEnd: UInt8 = 0xFE

    /// The digest of a request's messages, added to one message at a time.
    package struct Messages: Sendable {
        private var digest = Digest64()

        package init() {}

        /// Starts a message with `role`; its text follows through `text(_:)`.
        package mutating func begin(role: String) {
            digest.add(role)
            digest.add(ExchangeFingerprint.roleEnd)
        }

        /// Part of the current message's text.
        package mutating func text<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 { digest.add(bytes) }

        package mutating func text(_ text: String) { digest.add(text) }

        /// Ends the current message.
        package mutating func end() { digest.add(Digest64.separator) }

        package var value: UInt64 { digest.value }
    }

    /// The digest of `messages` (role, text) in order.
    package static func messages(_ messages: [(role: String, text: String)]) -> UInt64 {
        var digest = Messages()
        for message in messages {
            digest.begin(role: message.role)
            digest.text(message.text)
            digest.end()
        }
        return digest.value
    }

    /// The content of a chat completion (streamed or not): its text, finish reason and
    /// usage (nil when the answer carried none, as a stream without `include_usage`).
    package static func chat(text: String, finishReason: String?, usage: Usage?) -> UInt64 {
        var digest = Digest64()
        digest.field("chat")
        digest.field(text)
        digest.field(finishReason ?? "")
        if let usage {
            digest.field(String(usage.prompt))
            digest.field(String(usage.completion))
            digest.field(String(usage.total))
        }
        return digest.value
    }

    /// The content of a model list: its ids, in order.
    package static func models(_ ids: [String]) -> UInt64 {
        var digest = Digest64()
        digest.field("models")
        for id in ids { digest.field(id) }
        return digest.value
    }

    /// The content of an OpenAI error body.
    package static func error(message: String?, type: String?, param: String?, code: String?) -> UInt64 {
        var digest = Digest64()
        digest.field("error")
        for field in [message, type, param, code] { digest.field(field ?? "") }
        return digest.value
    }

    /// A digest as the ledgers print it: 16 hex digits.
    package static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// A printed digest read back.
    package static func value(hex: String) -> UInt64? { UInt64(hex, radix: 16) }
}
