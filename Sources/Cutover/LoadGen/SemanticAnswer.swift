import Foundation
import HTTPServerCore
import MockUpstream

/// What an answer says, read as a re-encoding gateway must keep it (`relay: semantic`): a
/// chat completion's text, finish reason and usage (streamed or whole), a model list's
/// ids, an error's OpenAI fields. Its digest (`ExchangeFingerprint`) is compared with the
/// upstream's `contentDigest`. Read with Foundation's JSON parser, because only a real
/// parser makes every legal re-encoding (whitespace, key order, escapes) read the same;
/// gateways are judged at hundreds of requests a second, where it costs nothing that matters.
package struct SemanticAnswer {
    package init() {}

    private var text = ""
    private var finishReason: String?
    private var usage: ExchangeFingerprint.Usage?

    /// Reads one stream event's data (`[DONE]` excluded).
    package mutating func event(_ data: ArraySlice<UInt8>) {
        guard let object = Self.object(data) else { return }
        if let choice = (object["choices"] as? [Any])?.first as? [String: Any] {
            if let delta = choice["delta"] as? [String: Any], let content = delta["content"] as? String { text += content }
            if let finish = choice["finish_reason"] as? String { finishReason = finish }
        }
        if let found = Self.usage(object["usage"]) { usage = found }
    }

    /// The digest of the stream read so far.
    package var streamDigest: UInt64 { ExchangeFingerprint.chat(text: text, finishReason: finishReason, usage: usage) }

    /// The digest of a whole body: a chat completion, a model list or one model, or an
    /// OpenAI error; any other body is digested as its bytes (it matches no upstream content).
    package static func digest(ofBody bytes: [UInt8]) -> UInt64 {
        guard let object = object(bytes[...]) else { return raw(bytes) }
        if let error = object["error"] as? [String: Any] {
            func field(_ name: String) -> String? {
                switch error[name] {
                case let text as String: text
                case let number as NSNumber: number.stringValue
                default: nil
                }
            }
            return ExchangeFingerprint.error(message: field("message"), type: field("type"), param: field("param"), code: field("code"))
        }
        if let choices = object["choices"] as? [Any] {
            let choice = choices.first as? [String: Any]
            let message = choice?["message"] as? [String: Any]
            return ExchangeFingerprint.chat(
                text: message?["content"] as? String ?? "", finishReason: choice?["finish_reason"] as? String, usage: usage(object["usage"]))
        }
        if object["object"] as? String == "list", let data = object["data"] as? [Any] {
            return ExchangeFingerprint.models(data.compactMap { ($0 as? [String: Any])?["id"] as? String })
        }
        if object["object"] as? String == "model", let id = object["id"] as? String { return ExchangeFingerprint.models([id]) }
        return raw(bytes)
    }

    private static func raw(_ bytes: [UInt8]) -> UInt64 {
        var digest = Digest64()
        digest.add(bytes)
        return digest.value
    }

    private static func object(_ bytes: ArraySlice<UInt8>) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    private static func usage(_ value: Any?) -> ExchangeFingerprint.Usage? {
        guard let usage = value as? [String: Any], let prompt = (usage["prompt_tokens"] as? NSNumber)?.intValue,
            let completion = (usage["completion_tokens"] as? NSNumber)?.intValue, let total = (usage["total_tokens"] as? NSNumber)?.intValue
        else { return nil }
        return ExchangeFingerprint.Usage(prompt: prompt, completion: completion, total: total)
    }
}
