import HTTPServerCore
import NIOCore

/// Renders chat completions and their stream chunks in OpenAI's exact shapes.
package struct ChatCompletionRenderer: Sendable {
    package var id: String
    package var created: Int
    package var model: String
    package var fingerprint: String
    package var request: ChatRequest
    package var text: CompletionText
    /// `data: {"id":…,"choices":[{"index":0,"delta":` and what follows the delta of a token
    /// chunk: rendered once per stream, so a token costs only its own delta.
    private let tokenPrefix: [UInt8]
    private let tokenSuffix: [UInt8]
    /// Tokens per content chunk (`stream-pace`'s `tokens_per_chunk`).
    package var tokensPerChunk = 1

    /// Content chunks: the tokens in groups of `tokensPerChunk`.
    package var contentChunks: Int { (text.tokens.count + tokensPerChunk - 1) / tokensPerChunk }

    /// The text of content chunk `index` (1-based), as one JSON string.
    private func content(_ index: Int) -> String {
        guard tokensPerChunk > 1 else { return JSON.quoted(text.tokens[index - 1]) }
        let start = (index - 1) * tokensPerChunk
        return JSON.quoted(text.tokens[start..<min(text.tokens.count, start + tokensPerChunk)].joined())
    }

    package init(id: String, created: Int, model: String, fingerprint: String, request: ChatRequest, text: CompletionText) {
        self.id = id
        self.created = created
        self.model = model
        self.fingerprint = fingerprint
        self.request = request
        self.text = text
        let marker = "\u{0}"
        let whole =
            "data: "
            + Self.chunk(id: id, created: created, model: model, fingerprint: fingerprint, includeUsage: request.includeUsage, delta: marker, finish: nil)
            + "\n\n"
        let parts = whole.components(separatedBy: marker)
        tokenPrefix = Array(parts[0].utf8)
        tokenSuffix = Array(parts[1].utf8)
    }

    package var finishReason: String { request.maxTokensGiven ? "length" : "stop" }

    /// What the answer says (`ExchangeFingerprint.chat`): the text, the finish reason, and
    /// the usage where the answer carries it (always, unless a stream was not asked for it).
    package var contentDigest: UInt64 {
        let completion = text.tokens.count
        let usage = ExchangeFingerprint.Usage(prompt: request.promptTokens, completion: completion, total: request.promptTokens + completion)
        return ExchangeFingerprint.chat(text: text.text, finishReason: finishReason, usage: !request.stream || request.includeUsage ? usage : nil)
    }

    private var usage: String {
        let completion = text.tokens.count
        return #"{"prompt_tokens":\#(request.promptTokens),"completion_tokens":\#(completion),"total_tokens":\#(request.promptTokens + completion)}"#
    }

    /// The non-streamed `chat.completion` object.
    package var completion: String {
        #"{"id":"\#(id)","object":"chat.completion","created":\#(created),"model":\#(JSON.quoted(model)),"choices":[{"index":0,"message":{"role":"assistant","content":\#(JSON.quoted(text.text)),"refusal":null},"logprobs":null,"finish_reason":"\#(finishReason)"}],"usage":\#(usage),"system_fingerprint":\#(JSON.quoted(fingerprint))}"#
    }

    /// One `chat.completion.chunk` with the given delta and finish reason.
    private func chunk(delta: String, finish: String?) -> String {
        Self.chunk(id: id, created: created, model: model, fingerprint: fingerprint, includeUsage: request.includeUsage, delta: delta, finish: finish)
    }

    private static func chunk(id: String, created: Int, model: String, fingerprint: String, includeUsage: Bool, delta: String, finish: String?) -> String {
        let finishText = finish.map { "\"\($0)\"" } ?? "null"
        let usageField = includeUsage ? #","usage":null"# : ""
        return
            #"{"id":"\#(id)","object":"chat.completion.chunk","created":\#(created),"model":\#(JSON.quoted(model)),"system_fingerprint":\#(JSON.quoted(fingerprint)),"choices":[{"index":0,"delta":\#(delta),"logprobs":null,"finish_reason":\#(finishText)}]\#(usageField)}"#
    }
}

extension ChatCompletionRenderer: StreamFrames {
    /// Role chunk, the content chunks (one per token unless `tokensPerChunk` groups them),
    /// the finish chunk, the usage chunk when asked, `[DONE]`.
    package var count: Int { contentChunks + 3 + (request.includeUsage ? 1 : 0) }

    package func frame(_ index: Int) -> String {
        let tokens = contentChunks
        let data: String
        switch index {
        case 0:
            data = chunk(delta: #"{"role":"assistant","content":"","refusal":null}"#, finish: nil)
        case 1...max(1, tokens) where index <= tokens:
            data = chunk(delta: #"{"content":\#(content(index))}"#, finish: nil)
        case tokens + 1:
            data = chunk(delta: "{}", finish: finishReason)
        case tokens + 2 where request.includeUsage:
            data =
                #"{"id":"\#(id)","object":"chat.completion.chunk","created":\#(created),"model":\#(JSON.quoted(model)),"system_fingerprint":\#(JSON.quoted(fingerprint)),"choices":[],"usage":\#(usage)}"#
        default:
            data = "[DONE]"
        }
        return "data: \(data)\n\n"
    }

    /// Token chunks are written from the stream's rendered prefix and suffix.
    package func write(_ index: Int, into buffer: inout ByteBuffer) {
        guard index >= 1, index <= contentChunks else {
            buffer.writeString(frame(index))
            return
        }
        buffer.writeBytes(tokenPrefix)
        buffer.writeStaticString(#"{"content":"#)
        buffer.writeString(content(index))
        buffer.writeStaticString("}")
        buffer.writeBytes(tokenSuffix)
    }
}
