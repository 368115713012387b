import ConfigInput
import CurlHTTP
import Cutover
@_exported import CutoverTestSupport
import Foundation
import HTTPServerCore
import MockUpstream
import Testing

/// A chat completion request body.
func chatBody(model: String = "gpt-4.1", maxTokens: Int? = 8, stream: Bool = false, includeUsage: Bool = false, prompt: String = "Say something") -> String {
    var fields = [#""model":\#(JSON.quoted(model))"#, #""messages":[{"role":"user","content":\#(JSON.quoted(prompt))}]"#]
    if let maxTokens { fields.append(#""max_tokens":\#(maxTokens)"#) }
    if stream { fields.append(#""stream":true"#) }
    if includeUsage { fields.append(#""stream_options":{"include_usage":true}"#) }
    return "{" + fields.joined(separator: ",") + "}"
}

/// The response body as a JSON object.
func object(_ response: CurlResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(response.body))
    return try #require(value as? [String: Any], "body is not a JSON object: \(response.text)", sourceLocation: sourceLocation)
}

/// The `data:` payloads of a stream that are JSON objects.
func jsonEvents(_ response: CurlResponse) -> [[String: Any]] {
    response.events.compactMap { event in
        guard !event.isDone, let data = event.data.data(using: .utf8) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}

/// Sends the admin API a request with a JSON body.
func admin(_ mock: MockUpstream, _ method: String, _ path: String, _ body: String? = nil) async -> CurlResponse {
    let client = CurlClient()
    return await client.send(
        CurlRequest(
            method: method, url: mock.adminURL + path, headers: body == nil ? [] : [("Content-Type", "application/json")],
            body: body.map { Array($0.utf8) }))
}

/// The `error` object of an error response, or an empty one if the body has none.
func errorInfo(_ response: CurlResponse) -> [String: Any] {
    let body = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
    return body?["error"] as? [String: Any] ?? [:]
}
