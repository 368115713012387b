import Foundation
import HTTPServerCore
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The OpenAI relay API with faults: turns each request into a `ResponsePlan` and
/// records it in the ledger.
final class RelayAPI: HTTPResponder {
    private let configuration: MockConfiguration
    private let faults: FaultPlan
    private let ledger: MockLedger
    private let instanceID: String
    private let fingerprint: String
    private let modelsBody: ByteBuffer
    private let modelsDigest: UInt64
    private let modelSet: Set<String>
    private let generatedIDs = NIOLockedValueBox<UInt64>(0)

    init(configuration: MockConfiguration, faults: FaultPlan, ledger: MockLedger, instanceID: String) {
        self.configuration = configuration
        self.faults = faults
        self.ledger = ledger
        self.instanceID = instanceID
        self.fingerprint = "fp_\(configuration.name)_mock-\(configuration.version)"
        self.modelSet = Set(configuration.models)
        self.modelsDigest = ExchangeFingerprint.models(configuration.models)
        self.modelsBody = ByteBuffer(
            string: JSON.object([
                ("object", .string("list")),
                ("data", .array(configuration.models.enumerated().map { Self.modelJSON($1, index: $0) })),
            ]).text)
    }

    private static func modelJSON(_ id: String, index: Int) -> JSON {
        .object([("id", .string(id)), ("object", .string("model")), ("created", .int(1_700_000_000 + index * 86_400)), ("owned_by", .string("openai"))])
    }

    private enum Route {
        case models
        case model(String)
        case chat
        case unknown(HTTPResponseStatus)
    }

    private func route(_ request: HTTPRequest) -> Route {
        let path = request.path
        if path == "/v1/models" { return request.method == .GET ? .models : .unknown(.methodNotAllowed) }
        if path == "/v1/chat/completions" { return request.method == .POST ? .chat : .unknown(.methodNotAllowed) }
        if path.hasPrefix("/v1/models/") {
            return request.method == .GET ? .model(String(path.dropFirst("/v1/models/".count))) : .unknown(.methodNotAllowed)
        }
        return .unknown(.notFound)
    }

    func plan(for request: HTTPRequest, on eventLoop: any EventLoop) -> ResponsePlan {
        let path = String(request.path)
        let route = route(request)
        var model: String?
        var stream = false
        // A chat body is parsed once; faults still match the model of an invalid one.
        var parsed: Result<ChatRequest, OpenAIError>?
        if case .chat = route {
            let result = Result { () throws(OpenAIError) in try ChatRequest.parse(request.bodyBytes) }
            parsed = result
            if case .success(let chat) = result {
                (model, stream) = (chat.model, chat.stream)
            } else {
                (model, stream) = ChatRequest.peek(request.bodyBytes)
            }
        } else if case .model(let id) = route {
            model = id
        }
        let decision = faults.decide(path: path, stream: stream, model: model)
        let requestID = request.head.headers.first(name: "x-request-id") ?? generateRequestID()
        var arrival = LedgerEntry(
            seq: 0, requestID: requestID, sessionID: request.head.headers.first(name: "x-session-id"), method: request.method.rawValue, path: path,
            model: model, stream: stream, arrivalMs: 0, finishMs: nil, faults: decision.ids, status: nil, outcome: .inFlight, bytes: 0, chunks: 0)
        arrival.requestBytes = request.body.readableBytes
        arrival.connectionIndex = request.indexOnConnection
        if request.head.version != .http1_1 { arrival.httpVersion = "HTTP/\(request.head.version.major).\(request.head.version.minor)" }
        if case .success(let chat) = parsed {
            arrival.bodyRequestID = chat.identity
            arrival.messagesDigest = chat.messagesDigest
            arrival.maxTokens = chat.maxTokensGiven ? chat.maxTokens : nil
            arrival.includeUsage = chat.includeUsage
        }
        let ticket = ledger.begin(arrival)

        var headers = HTTPHeaders()
        headers.reserveCapacity(8)
        headers.add(name: "x-upstream-env", value: configuration.name)
        headers.add(name: "x-upstream-instance", value: instanceID)
        headers.add(name: "x-request-id", value: requestID)
        headers.add(name: "x-mock-fault", value: decision.stamp)
        let delay = decision.latencyMs ?? 0

        // Transport and status faults win over everything: a down upstream validates nothing.
        if let fault = decision.outcome {
            switch fault.kind {
            case .outage(.reset), .outage(.refuse):
                return .reset(ticket: ticket, delayMs: delay)
            case .outage(.hang):
                return .hang(ticket: ticket)
            case .status(let code, let retryAfter, let extra, let message):
                let error = OpenAIError.injected(status: code, message: message)
                if let retryAfter { headers.add(name: "retry-after", value: retryAfter.headerValue) }
                if code == 429 { addRateLimitHeaders(&headers, retryAfter: retryAfter) }
                for header in extra { headers.replaceOrAdd(name: header.name, value: header.value) }
                var relayed: [String: String] = [:]
                for (name, value) in headers {
                    let lower = name.lowercased()
                    if lower == "retry-after" || lower.hasPrefix("x-ratelimit-") || extra.contains(where: { $0.name.lowercased() == lower }) {
                        relayed[lower] = value
                    }
                }
                if !relayed.isEmpty { ledger.noteFaultHeaders(ticket, relayed) }
                return errorPlan(error, headers: headers, delay: delay, ticket: ticket, wire: decision.wire)
            default:
                break
            }
        }

        if let key = configuration.apiKey, request.head.headers.first(name: "authorization") != "Bearer \(key)" {
            let presented =
                request.head.headers.first(name: "authorization") == nil
                ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
                : "Incorrect API key provided."
            return errorPlan(
                OpenAIError(status: .unauthorized, message: presented, code: "invalid_api_key"), headers: headers, delay: delay, ticket: ticket,
                wire: decision.wire)
        }

        switch route {
        case .unknown(let status):
            let error = OpenAIError(status: status, message: "Invalid URL (\(request.method.rawValue) \(path))")
            return errorPlan(error, headers: headers, delay: delay, ticket: ticket, wire: decision.wire)
        case .models:
            headers.add(name: "content-type", value: "application/json")
            return shaped(modelsBody, headers: headers, decision: decision, delay: delay, ticket: ticket, content: modelsDigest)
        case .model(let id):
            guard modelSet.contains(id), let index = configuration.models.firstIndex(of: id) else {
                return errorPlan(modelNotFound(id), headers: headers, delay: delay, ticket: ticket, wire: decision.wire)
            }
            headers.add(name: "content-type", value: "application/json")
            return shaped(
                ByteBuffer(string: Self.modelJSON(id, index: index).text), headers: headers, decision: decision, delay: delay, ticket: ticket,
                content: ExchangeFingerprint.models([id]))
        case .chat:
            let chat: ChatRequest
            switch parsed {
            case .success(let request): chat = request
            case .failure(let error): return errorPlan(error, headers: headers, delay: delay, ticket: ticket, wire: decision.wire)
            case nil: preconditionFailure("every chat request is parsed before faults are decided")
            }
            guard modelSet.contains(chat.model) else {
                return errorPlan(modelNotFound(chat.model), headers: headers, delay: delay, ticket: ticket, wire: decision.wire)
            }
            var renderer = ChatCompletionRenderer(
                id: "chatcmpl-" + String(SeededRandom.bits(seed: configuration.seed, stream: 0xC4A7, index: ticket), radix: 16),
                created: Int(Date().timeIntervalSince1970), model: chat.model, fingerprint: fingerprint, request: chat,
                text: CompletionText(count: chat.maxTokens, seed: configuration.seed, model: chat.model, prompt: chat.lastMessage))
            if chat.stream {
                renderer.tokensPerChunk = decision.pace?.tokensPerChunk ?? 1
                return streamPlan(renderer, headers: headers, decision: decision, delay: delay, ticket: ticket)
            }
            headers.add(name: "content-type", value: "application/json")
            return shaped(
                ByteBuffer(string: renderer.completion), headers: headers, decision: decision, delay: delay, ticket: ticket, content: renderer.contentDigest)
        }
    }

    func finished(ticket: UInt64, _ end: ExchangeEnd) {
        ledger.finish(ticket, end)
    }

    func closedIdle() {
        ledger.noteIdleClose()
    }

    // MARK: - Plans

    private func errorPlan(_ error: OpenAIError, headers: HTTPHeaders, delay: Double, ticket: UInt64, wire: WireShaping) -> ResponsePlan {
        var headers = headers
        headers.replaceOrAdd(name: "content-type", value: "application/json")
        return .respond(
            PlannedResponse(
                status: error.status, headers: headers, delayMs: delay, body: .full(error.body), ticket: ticket, contentDigest: error.contentDigest, wire: wire)
        )
    }

    /// A whole-body 200, broken as the decision's `body` fault says.
    private func shaped(_ body: ByteBuffer, headers: HTTPHeaders, decision: FaultDecision, delay: Double, ticket: UInt64, content: UInt64) -> ResponsePlan {
        var shapedBody = PlannedResponse.Body.full(body)
        if case .body(let mode) = decision.outcome?.kind {
            switch mode {
            case .empty: shapedBody = .full(ByteBuffer())
            case .truncate: shapedBody = .truncated(body.getSlice(at: body.readerIndex, length: body.readableBytes / 2)!, promised: body.readableBytes)
            case .malformedJSON: shapedBody = .full(body.getSlice(at: body.readerIndex, length: body.readableBytes / 2)!)
            case .garbage: shapedBody = .full(garbage(decision.draw))
            }
        }
        return .respond(
            PlannedResponse(status: .ok, headers: headers, delayMs: delay, body: shapedBody, ticket: ticket, contentDigest: content, wire: decision.wire))
    }

    private func streamPlan(_ renderer: ChatCompletionRenderer, headers: HTTPHeaders, decision: FaultDecision, delay: Double, ticket: UInt64) -> ResponsePlan {
        var headers = headers
        headers.add(name: "content-type", value: "text/event-stream; charset=utf-8")
        headers.add(name: "cache-control", value: "no-cache")
        var script = StreamScript(frames: renderer, pace: decision.pace, fault: nil)
        switch decision.outcome?.kind {
        case .streamCut(let after): script.fault = .cut(afterChunks: after)
        case .streamStall(let after, let ms): script.fault = .stall(afterChunks: after, stallMs: ms)
        case .streamError(let after):
            let error = OpenAIError.injected(status: 500, message: "The server had an error while processing your request. Sorry about that!")
            script.fault = .error(afterChunks: after, frame: "data: \(error.json.text)\n\n")
        case .streamNoDone: script.fault = .noDone
        case .body(.empty): script.fault = .cut(afterChunks: 0)
        case .body(.truncate): script.fault = .cut(afterChunks: renderer.count / 2)
        case .body(.malformedJSON): script.fault = .error(afterChunks: renderer.count / 2, frame: "data: {\"id\":\"\(renderer.id)\",\"object\":\n\n")
        case .body(.garbage):
            return .respond(
                PlannedResponse(
                    status: .ok, headers: headers, delayMs: delay, body: .full(garbage(decision.draw)), ticket: ticket, contentDigest: renderer.contentDigest,
                    wire: decision.wire))
        default: break
        }
        return .respond(
            PlannedResponse(
                status: .ok, headers: headers, delayMs: delay, body: .stream(script), ticket: ticket, contentDigest: renderer.contentDigest, wire: decision.wire
            ))
    }

    private func garbage(_ draw: UInt64) -> ByteBuffer {
        var generator = SplitMix64(seed: draw)
        var buffer = ByteBuffer()
        for _ in 0..<32 { buffer.writeInteger(generator.next()) }
        return buffer
    }

    private func modelNotFound(_ model: String) -> OpenAIError {
        OpenAIError(status: .notFound, message: "The model `\(model)` does not exist or you do not have access to it.", code: "model_not_found")
    }

    /// OpenAI's rate-limit headers, as clients and routers read them on a 429.
    private func addRateLimitHeaders(_ headers: inout HTTPHeaders, retryAfter: Fault.RetryAfter?) {
        let reset: String
        if case .seconds(let s) = retryAfter { reset = "\(s)s" } else { reset = "1s" }
        headers.add(name: "x-ratelimit-limit-requests", value: "10000")
        headers.add(name: "x-ratelimit-remaining-requests", value: "0")
        headers.add(name: "x-ratelimit-reset-requests", value: reset)
        headers.add(name: "x-ratelimit-limit-tokens", value: "2000000")
        headers.add(name: "x-ratelimit-remaining-tokens", value: "0")
        headers.add(name: "x-ratelimit-reset-tokens", value: reset)
    }

    private func generateRequestID() -> String {
        let n = generatedIDs.withLockedValue { value in
            value += 1
            return value
        }
        return "req_\(instanceID)_\(n)"
    }
}
