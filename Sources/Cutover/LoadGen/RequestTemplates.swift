import Foundation
import HTTPServerCore
import MockUpstream

/// The request URLs and body starts of a run, built once and kept alive for every transfer.
///
/// `@unchecked Sendable`: filled in `init` and only read afterwards; the buffers are
/// freed in `deinit`, after every engine thread has ended.
final class RequestTemplates: @unchecked Sendable {
    struct Template {
        let url: UnsafePointer<CChar>
        /// For a chat request, the body's start (`{"model":…,"messages":[`); every chat body is
        /// its request's own (it names the request), so the transfer adds the messages,
        /// `max_tokens` and `stream` per request (`CurlTransfer.setBody`). Nil for a GET.
        let bodyHead: [UInt8]?
        let stream: Bool
        /// How this entry's client talks to the router.
        let client: ClientKind
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

    /// The short prompt of requests without a drawn size (after the request's identity).
    static let shortPrompt = Array("Hello from cutover".utf8)

    /// One template per (mix entry, model), at `mix * models + model`.
    private(set) var templates: [Template] = []
    private var allocations: [UnsafeMutableRawPointer] = []
    let extraHeaders: [String]
    private let modelCount: Int
    /// `(request <runID>-` as the prompt holds it, and as JSON writes it.
    private let identityText: [UInt8]
    private let identityJSON: [UInt8]

    init(plan: LoadPlan) {
        extraHeaders = plan.headers.map { "\($0.name): \($0.value)" }
        modelCount = plan.models.count
        let marker = RequestIdentity.marker(plan.runID + "-")
        identityText = Array(marker.utf8.dropLast())
        identityJSON = Array(JSON.quoted(String(decoding: identityText, as: UTF8.self)).utf8.dropFirst().dropLast())
        for entry in plan.mix {
            for model in plan.models {
                let path = entry.endpoint == .models ? "/v1/models" : "/v1/chat/completions"
                let url = strdup(plan.url + path)!
                allocations.append(UnsafeMutableRawPointer(url))
                let bodyHead = entry.endpoint == .models ? nil : Array(#"{"model":\#(JSON.quoted(model.name)),"messages":["#.utf8)
                templates.append(Template(url: UnsafePointer(url), bodyHead: bodyHead, stream: entry.endpoint == .chatStream, client: entry.client))
            }
        }
    }

    func index(mix: Int, model: Int) -> Int { mix * modelCount + model }

    /// One turn of a conversation as the body carries it.
    struct Turn {
        /// The slot whose prompt it is (its identity).
        var seq: UInt64
        var promptBytes: Int?
        /// Earlier turns only: the answer's length, one word a token.
        var answerTokens: Int
    }

    /// Writes the body of request `seq` into `bytes`: the template's start, the
    /// conversation so far (each earlier turn's prompt and an answer of as many words as it
    /// asked tokens), this turn's prompt, then `max_tokens` and `stream`. Every prompt opens
    /// with its own request's identity (`RequestIdentity`). Returns the digest of the
    /// messages (`ExchangeFingerprint.messages`), which the upstream's ledger must match.
    func body(_ template: Template, into bytes: inout [UInt8], seq: UInt64, maxTokens: Int, promptBytes: Int?, earlierTurns: [Turn]) -> UInt64 {
        guard let head = template.bodyHead else { return 0 }
        var digest = ExchangeFingerprint.Messages()
        bytes.removeAll(keepingCapacity: true)
        bytes += head
        func prompt(_ slot: UInt64, _ size: Int?) {
            bytes += #"{"role":"user","content":""#.utf8
            digest.begin(role: "user")
            var number = Array(String(slot).utf8)
            number += ") ".utf8
            bytes += identityJSON
            bytes += number
            digest.text(identityText)
            digest.text(number)
            let rest = size.map { Self.filler.prefix(max(0, min($0 - identityText.count - number.count, Self.filler.count))) } ?? Self.shortPrompt[...]
            bytes += rest
            digest.text(rest)
            digest.end()
            bytes += #""}"#.utf8
        }
        for turn in earlierTurns {
            prompt(turn.seq, turn.promptBytes)
            bytes += #",{"role":"assistant","content":""#.utf8
            digest.begin(role: "assistant")
            for _ in 0..<turn.answerTokens {
                bytes += Self.answerWord
                digest.text(Self.answerWord)
            }
            digest.end()
            bytes += #""},"#.utf8
        }
        prompt(seq, promptBytes)
        bytes += #"],"max_tokens":\#(maxTokens)\#(template.stream ? Self.streamFields : "")}"#.utf8
        return digest.value
    }

    deinit {
        for pointer in allocations { free(pointer) }
    }
}
