import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore
import MockUpstream
import Testing

/// The relay API in OpenAI's shapes, over real loopback HTTP through libcurl.
@Suite("Relay API")
struct RelayAPITests {
    let client = CurlClient()

    @Test func modelsListHasOpenAIShapeAndIdentityHeaders() async throws {
        try await withMock { mock in
            let response = await client.get(mock.url + "/v1/models", headers: [("X-Request-ID", "run1-42")])
            #expect(response.error == nil)
            #expect(response.status == 200)
            #expect(response.header("X-Upstream-Env") == "blue")
            #expect(response.header("X-Upstream-Instance") == mock.instanceID)
            #expect(response.header("X-Request-ID") == "run1-42")
            #expect(response.header("X-Mock-Fault") == "none")
            let body = try object(response)
            #expect(body["object"] as? String == "list")
            let data = try #require(body["data"] as? [[String: Any]])
            #expect(data.map { $0["id"] as? String } == MockConfiguration.defaultModels)
            for model in data {
                #expect(model["object"] as? String == "model")
                #expect(model["owned_by"] as? String == "openai")
                #expect(model["created"] is Int)
            }
        }
    }

    @Test func modelsCanBeConfiguredAndRetrievedOneByOne() async throws {
        try await withMock(MockConfiguration(name: "green", models: ["m1", "m2"])) { mock in
            let list = try object(await client.get(mock.url + "/v1/models"))
            #expect((list["data"] as? [[String: Any]])?.map { $0["id"] as? String } == ["m1", "m2"])
            let one = try object(await client.get(mock.url + "/v1/models/m2"))
            #expect(one["id"] as? String == "m2")
            let missing = await client.get(mock.url + "/v1/models/gpt-4.1")
            #expect(missing.status == 404)
        }
    }

    @Test func completionHasExactlyMaxTokensAndOpenAIShape() async throws {
        try await withMock { mock in
            let response = await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 7))
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/json")
            let body = try object(response)
            #expect(body["object"] as? String == "chat.completion")
            #expect((body["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            #expect(body["model"] as? String == "gpt-4.1")
            #expect(body["created"] is Int)
            #expect((body["system_fingerprint"] as? String)?.contains("blue") == true)
            let choice = try #require((body["choices"] as? [[String: Any]])?.first)
            #expect(choice["finish_reason"] as? String == "length")
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant")
            let content = try #require(message["content"] as? String)
            #expect(content.split(separator: " ").count == 7)
            let usage = try #require(body["usage"] as? [String: Int])
            #expect(usage["completion_tokens"] == 7)
            #expect(usage["total_tokens"] == usage["prompt_tokens"]! + 7)
        }
    }

    @Test func defaultLengthIsSixteenTokensAndContentIsSeeded() async throws {
        func content(seed: UInt64) async throws -> String {
            try await withMock(MockConfiguration(name: "blue", seed: seed)) { mock in
                let body = try object(await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: nil)))
                let choice = (body["choices"] as? [[String: Any]])?.first
                #expect(choice?["finish_reason"] as? String == "stop")
                return ((choice?["message"] as? [String: Any])?["content"] as? String) ?? ""
            }
        }
        let first = try await content(seed: 7)
        #expect(first.split(separator: " ").count == ChatRequest.defaultMaxTokens)
        #expect(try await content(seed: 7) == first)
        #expect(try await content(seed: 8) != first)
    }

    @Test(arguments: [false, true])
    func streamedCompletionEndsWithDoneAndHonoursIncludeUsage(includeUsage: Bool) async throws {
        try await withMock { mock in
            let response = await client.post(mock.url + "/v1/chat/completions", json: chatBody(maxTokens: 5, stream: true, includeUsage: includeUsage))
            #expect(response.error == nil)
            #expect(response.status == 200)
            #expect(response.header("Content-Type")?.hasPrefix("text/event-stream") == true)
            let events = response.events
            #expect(events.last?.isDone == true)
            let chunks = jsonEvents(response)
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            #expect(Set(chunks.compactMap { $0["id"] as? String }).count == 1)
            let deltas = chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }
            #expect(deltas.filter { !$0.isEmpty }.count == 5)
            let first = (chunks.first?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
            #expect(first?["role"] as? String == "assistant")
            let finishes = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
            #expect(finishes == ["length"])
            let usageChunks = chunks.filter { $0["usage"] is [String: Any] }
            if includeUsage {
                #expect(usageChunks.count == 1)
                #expect((usageChunks.first?["choices"] as? [Any])?.isEmpty == true)
                #expect((usageChunks.first?["usage"] as? [String: Int])?["completion_tokens"] == 5)
            } else {
                #expect(usageChunks.isEmpty)
                #expect(chunks.allSatisfy { $0["usage"] == nil })
            }
        }
    }

    @Test func unknownModelIs404ModelNotFound() async throws {
        try await withMock { mock in
            let response = await client.post(mock.url + "/v1/chat/completions", json: chatBody(model: "gpt-0"))
            #expect(response.status == 404)
            let error = errorInfo(response)
            #expect(error["code"] as? String == "model_not_found")
            #expect(error["type"] as? String == "invalid_request_error")
            #expect((error["message"] as? String)?.contains("gpt-0") == true)
            #expect(error.keys.sorted() == ["code", "message", "param", "type"])
        }
    }

    @Test(arguments: [
        (#"{"model": "gpt-4.1", "messages": [{"role":"#, nil as String?),
        (#"{"messages": [{"role": "user", "content": "hi"}]}"#, "model"),
        (#"{"model": "gpt-4.1"}"#, "messages"),
        (#"{"model": "gpt-4.1", "messages": []}"#, "messages"),
        (#"{"model": "gpt-4.1", "messages": "hello"}"#, "messages"),
        (#"{"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}"#, "max_tokens"),
        (#"{"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}], "stream": "yes"}"#, "stream"),
    ])
    func badChatRequestsAre400WithTheParam(body: String, param: String?) async throws {
        try await withMock { mock in
            let response = await client.post(mock.url + "/v1/chat/completions", json: body)
            #expect(response.status == 400)
            let error = errorInfo(response)
            #expect(error["type"] as? String == "invalid_request_error")
            #expect((error["message"] as? String)?.isEmpty == false)
            #expect(error["param"] as? String == param)
        }
    }

    @Test func apiKeyIsRequiredWhenConfigured() async throws {
        try await withMock(MockConfiguration(name: "blue", apiKey: "sk-test")) { mock in
            let missing = await client.get(mock.url + "/v1/models")
            #expect(missing.status == 401)
            #expect(errorInfo(missing)["code"] as? String == "invalid_api_key")
            let wrong = await client.get(mock.url + "/v1/models", headers: [("Authorization", "Bearer sk-other")])
            #expect(wrong.status == 401)
            let right = await client.get(mock.url + "/v1/models", headers: [("Authorization", "Bearer sk-test")])
            #expect(right.status == 200)
        }
    }

    @Test func unknownPathsAndMethodsGetOpenAIErrors() async throws {
        try await withMock { mock in
            let unknown = await client.post(mock.url + "/v1/embeddings", json: "{}")
            #expect(unknown.status == 404)
            #expect(errorInfo(unknown)["message"] as? String == "Invalid URL (POST /v1/embeddings)")
            let wrongMethod = await client.get(mock.url + "/v1/chat/completions")
            #expect(wrongMethod.status == 405)
        }
    }

    @Test func keepAliveConnectionServesManyRequests() async throws {
        try await withMock { mock in
            for i in 0..<50 {
                let response = await client.get(mock.url + "/v1/models", headers: [("X-Request-ID", "r\(i)")])
                #expect(response.status == 200)
            }
            let stats = await admin(mock, "GET", "/_mock/stats")
            let counters = try object(stats)
            #expect(counters["requests"] as? Int == 50)
        }
    }
}
