import Foundation
import HTTPServerCore

/// The request URLs and bodies of a run, built once and kept alive for every transfer.
///
/// `@unchecked Sendable`: filled in `init` and only read afterwards; the buffers are
/// freed in `deinit`, after every engine thread has ended.
final class RequestTemplates: @unchecked Sendable {
    struct Template {
        let url: UnsafePointer<CChar>
        /// The body, when every request of the template has the same one.
        let body: UnsafeRawBufferPointer?
        /// Otherwise the body's start (`{"model":…,"messages":[`); the transfer adds the
        /// messages, `max_tokens` and `stream` per request (`CurlTransfer.setBody`).
        let bodyHead: [UInt8]?
        let stream: Bool
    }

    /// Prompt content for drawn sizes: plain words, cut to the size.
    static let filler: [UInt8] = {
        let sentence = Array("The canary moved a tenth of the sessions to green while the relay kept streaming. ".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1 << 20)
        while bytes.count < 1 << 20 { bytes += sentence }
        return bytes
    }()

    /// The earlier answers of a conversation: one word per token it asked for.
    static let answerWord = Array(" reply".utf8)

    /// A stream asks for its usage chunk, as SDKs do for billing, so that the tokens counted
    /// can be checked against `usage.completion_tokens`.
    static let streamFields = #","stream":true,"stream_options":{"include_usage":true}"#

    /// The short prompt of requests without a drawn size.
    static let shortPrompt = Array("Hello from cutover".utf8)

    /// One template per (mix entry, model), at `mix * models + model`.
    private(set) var templates: [Template] = []
    private var allocations: [UnsafeMutableRawPointer] = []
    let extraHeaders: [String]
    private let modelCount: Int

    init(plan: LoadPlan) {
        extraHeaders = plan.headers.map { "\($0.name): \($0.value)" }
        modelCount = plan.models.count
        for entry in plan.mix {
            for model in plan.models {
                let path = entry.endpoint == .models ? "/v1/models" : "/v1/chat/completions"
                let url = strdup(plan.url + path)!
                allocations.append(UnsafeMutableRawPointer(url))
                var body: UnsafeRawBufferPointer?
                var bodyHead: [UInt8]?
                if entry.endpoint != .models, !entry.fixedBody || plan.turns > 1 {
                    bodyHead = Array(#"{"model":\#(JSON.quoted(model.name)),"messages":["#.utf8)
                } else if entry.endpoint != .models {
                    let stream = entry.endpoint == .chatStream ? Self.streamFields : ""
                    let text =
                        #"{"model":\#(JSON.quoted(model.name)),"messages":[{"role":"user","content":"Hello from cutover"}],"max_tokens":\#(entry.maxTokens)\#(stream)}"#
                    let bytes = Array(text.utf8)
                    let memory = malloc(max(1, bytes.count))!
                    memory.copyMemory(from: bytes, byteCount: bytes.count)
                    allocations.append(memory)
                    body = UnsafeRawBufferPointer(start: memory, count: bytes.count)
                }
                templates.append(Template(url: UnsafePointer(url), body: body, bodyHead: bodyHead, stream: entry.endpoint == .chatStream))
            }
        }
    }

    func index(mix: Int, model: Int) -> Int { mix * modelCount + model }

    /// Appends the body of one request: the template's start, the conversation so far
    /// (each earlier turn's prompt and an answer of as many words as it asked tokens), this
    /// turn's prompt, then `max_tokens` and `stream`.
    static func body(
        _ template: Template, into bytes: inout [UInt8], maxTokens: Int, promptBytes: Int?, earlierTurns: [(promptBytes: Int?, answerTokens: Int)]
    ) {
        guard let head = template.bodyHead else { return }
        func prompt(_ size: Int?) -> ArraySlice<UInt8> { size.map { filler.prefix(min($0, filler.count)) } ?? shortPrompt[...] }
        bytes.removeAll(keepingCapacity: true)
        bytes += head
        for turn in earlierTurns {
            bytes += #"{"role":"user","content":""#.utf8
            bytes += prompt(turn.promptBytes)
            bytes += #""},{"role":"assistant","content":""#.utf8
            for _ in 0..<turn.answerTokens { bytes += answerWord }
            bytes += #""},"#.utf8
        }
        bytes += #"{"role":"user","content":""#.utf8
        bytes += prompt(promptBytes)
        bytes += #""}],"max_tokens":\#(maxTokens)\#(template.stream ? streamFields : "")}"#.utf8
    }

    deinit {
        for pointer in allocations { free(pointer) }
    }
}
