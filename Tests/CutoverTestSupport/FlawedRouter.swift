import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A small blue/green proxy with one deliberate defect, run in process as a router driver:
/// the known-bad routers that each check must catch (SPEC §5). It buffers whole responses
/// (streams included), which is enough to be judged.
package actor FlawedRouter: RouterDriver {
    package enum Flaw: Sendable, Equatable {
        /// No defect: the control.
        case none
        /// Picks an environment at random per request instead of by session.
        case randomSplit
        /// Sends `extra` percentage points more to green than the weight says.
        case skewedSplit(extra: Int)
        /// Re-hashes every session (a new salt) on each weight change.
        case rehashesOnChange
        /// Answers actions at once but applies the weight only after `delay`.
        case lateSwitch(delay: Duration)
        /// Applies a weight change by restarting: the listener closes and connections are cut.
        case restartsOnSwitch
        /// Holds requests for `delay` during the 1 s after a weight change: every one, or a
        /// `share` of them (a reload that stalls only some workers or the new connections).
        case slowAfterSwitch(delay: Duration, share: Double = 1)
        /// Accepts a canary without looking at green's health.
        case ignoresHealth
        /// Resends a request that got a 5xx, or whose connection the upstream reset, to the
        /// other environment.
        case retriesErrors
        /// Replaces an upstream 5xx with its own 502 and body.
        case rewritesErrors
        /// Comes back from a restart with green at weight 0.
        case forgetsOnRestart
        /// Answers every rollback with an error (and stays where it was).
        case refusesRollback
        /// Refuses every canary, healthy green or not.
        case refusesCanary
        /// Applies and reports `extra` points more than the canary asked for.
        case misreportsWeight(extra: Int)
        /// Says `X-Environment: blue` on every response, wherever it routed.
        case liesAboutEnvironment
        /// Forwards requests without their `Authorization` header.
        case stripsAuthorization
        /// Forwards to `/v2/…` instead of `/v1/…`.
        case rewritesPath
        /// Cuts the last 8 bytes off every whole 200 body (with a matching Content-Length).
        case truncatesBodies
        /// Drops the last SSE event (`data: [DONE]`) of every stream.
        case dropsLastEvent
        /// Relays upstream errors without their `Retry-After` header.
        case stripsRetryAfter
        /// Forwards the request, then closes a reused keep-alive connection before
        /// answering, so that the client (libcurl) sends it again on a fresh one.
        case resetsReusedConnections
        /// On a weight change, closes the client connections of the streams still open on
        /// the environment that lost weight, instead of letting them drain.
        case cutsOldStreamsAtSwitch
        /// Closes a reused keep-alive connection with a POST on it without forwarding it:
        /// libcurl sends it again on a fresh one, which the router forwards.
        case closesReusedBeforeForwarding
        /// Hands each chat answer to another client: the answers of two concurrent chat
        /// requests to the same environment change places (crossed buffers).
        case swapsAnswers
        /// Answers chat requests from a cache (the first answer per model and kind) without
        /// forwarding them.
        case answersFromCache
        /// Sends every request for `from` upstream as `to`.
        case rewritesModel(from: String, to: String)
        /// Caps `max_tokens` at `limit` on the way upstream.
        case capsMaxTokens(limit: Int)
        /// Forwards requests without their `X-Session-ID` header.
        case stripsSessionHeader
        /// Mirrors a copy of every chat request to green under another request id (a shadow
        /// copy), whatever green's weight.
        case mirrorsToGreen
        /// Blocks `delay` in its rollback call before the rollback takes effect.
        case slowRollback(delay: Duration)
        /// A gateway's re-encoding: every JSON answer is re-serialized (other key order and
        /// spacing) and every stream re-framed with CRLF line ends and `:` comment lines,
        /// with no change to what the answers say.
        case reencodes
        /// Answers 413 to a request body larger than `bytes` (nginx's `client_max_body_size`
        /// is 1 MiB by default).
        case rejectsBodiesOver(bytes: Int)
        /// Never fails over: a refused connection is answered 502.
        case noFailover
        /// Reuses kept-alive upstream connections without a look at whether the upstream
        /// closed one meanwhile, and answers 502 when it had (whole answers; streams go as usual).
        case reusesClosedConnections
        /// Answers an HTTP/1.0 request 426 Upgrade Required (Envoy's default,
        /// `accept_http_10: false`).
        case refusesHTTP10
    }

    package nonisolated let profile: String
    package nonisolated let flaw: Flaw
    package nonisolated let relay: RelayTerms
    private let state: Shared
    private var listener: HTTPListener?
    private var apiKey: String?

    package init(_ flaw: Flaw, relay: RelayTerms = RelayTerms()) {
        self.flaw = flaw
        self.relay = relay
        self.profile = "flawed(\(flaw))"
        self.state = Shared(flaw: flaw)
    }

    package func start(_ environment: RouterEnvironment) async throws -> String {
        state.configure(blue: environment.blue, green: environment.green)
        apiKey = environment.upstreamAPIKey
        let listener = HTTPListener(
            host: "127.0.0.1", group: MultiThreadedEventLoopGroup.singleton, responder: Forwarder(state: state), logger: Logger(label: "flawed-router"))
        let port = try await listener.bind(port: 0)
        self.listener = listener
        return "http://127.0.0.1:\(port)"
    }

    package func perform(_ action: RouterAction) async -> ActionOutcome {
        switch action {
        case .validate:
            return ActionOutcome(accepted: true, greenWeight: state.weight, detail: "validated")
        case .restart:
            if flaw == .forgetsOnRestart { state.setWeight(0) }
            return ActionOutcome(accepted: true, greenWeight: state.weight, detail: "restarted")
        case .crash:
            return ActionOutcome(accepted: false, greenWeight: state.weight, detail: "an in-process router cannot be killed apart from the harness")
        case .canary, .promote, .rollback:
            var target = action.intendedGreenWeight!
            if flaw == .refusesRollback, action == .rollback {
                return ActionOutcome(accepted: false, greenWeight: state.weight, detail: "500: rollback failed: state store unavailable")
            }
            if case .slowRollback(let delay) = flaw, action == .rollback {
                // Green keeps its weight while the call blocks.
                try? await Task.sleep(for: delay)
            }
            if flaw == .refusesCanary, action.isCanary {
                return ActionOutcome(accepted: false, greenWeight: state.weight, detail: "409: canary refused")
            }
            if case .misreportsWeight(let extra) = flaw, action.isCanary { target = min(100, target + extra) }
            if case .canary = action, flaw != .ignoresHealth {
                let probe = await CurlClient().get(
                    state.url(.green) + "/v1/models", headers: apiKey.map { [("Authorization", "Bearer \($0)")] } ?? [], timeoutMs: 2_000)
                guard probe.error == nil, probe.status == 200 else {
                    return ActionOutcome(accepted: false, greenWeight: state.weight, detail: "green unhealthy")
                }
            }
            switch flaw {
            case .lateSwitch(let delay):
                let state = self.state
                Task {
                    try? await Task.sleep(for: delay)
                    state.setWeight(target)
                }
                return ActionOutcome(accepted: true, greenWeight: target, detail: "will apply")
            case .restartsOnSwitch:
                await listener?.refuse()
                state.setWeight(target)
                try? await Task.sleep(for: .milliseconds(300))
                try? await listener?.reopen()
            default:
                let before = state.weight
                state.setWeight(target)
                if flaw == .cutsOldStreamsAtSwitch, target != before { state.cutStreams(on: target > before ? .blue : .green) }
            }
            return ActionOutcome(accepted: true, greenWeight: target, detail: "applied \(target) %")
        }
    }

    package func greenWeight() async -> Int? { state.weight }

    package func build() async -> RouterBuild { RouterBuild(profile: profile, version: "test", sha256: "", executable: "") }

    package func stop() async {
        await listener?.shutdown()
        listener = nil
    }

    /// The router's state, shared by the driver and the request path.
    final class Shared: Sendable {
        let flaw: Flaw
        private let values = Mutex<(blue: String, green: String, weight: Int, salt: UInt64, changedAt: ContinuousClock.Instant?)>(("", "", 0, 0, nil))
        let clients = (0..<256).map { _ in CurlClient() }
        /// `reusesClosedConnections`: the pool that does not look.
        let naivePool = NaiveUpstreamPool()
        private let next = Atomic<Int>(0)
        /// Streams being forwarded, with the promise that answers the client; whoever takes
        /// one out first (the answer, or a cut) completes it.
        private let openStreams = Mutex<[UInt64: (env: ServedBy, promise: EventLoopPromise<ResponsePlan>)]>([:])
        /// `swapsAnswers`: a chat answer waiting for another one on the same environment.
        private let waiting = Mutex<[ServedBy: (key: UInt64, promise: EventLoopPromise<ResponsePlan>, plan: ResponsePlan)]>([:])
        /// `answersFromCache`: the first answer per model and kind.
        private let cache = Mutex<[String: ResponsePlan]>([:])

        init(flaw: Flaw) { self.flaw = flaw }

        func configure(blue: String, green: String) {
            values.withLock {
                $0.blue = blue; $0.green = green
            }
        }
        var weight: Int { values.withLock { $0.weight } }

        func setWeight(_ weight: Int) {
            values.withLock {
                $0.weight = weight
                $0.changedAt = .now
                if flaw == .rehashesOnChange { $0.salt &+= 0x9E37_79B9_7F4A_7C15 }
            }
        }

        /// Registers an open stream; returns its key.
        func opened(_ env: ServedBy, _ promise: EventLoopPromise<ResponsePlan>) -> UInt64 {
            let key = next.add(1, ordering: .relaxed).newValue
            openStreams.withLock { $0[UInt64(key)] = (env, promise) }
            return UInt64(key)
        }

        /// The stream's promise, unless a cut already completed it.
        func closed(_ key: UInt64) -> EventLoopPromise<ResponsePlan>? { openStreams.withLock { $0.removeValue(forKey: key)?.promise } }

        /// Closes the client connection of every stream open on `env`.
        func cutStreams(on env: ServedBy) {
            let cut = openStreams.withLock { streams in
                let keys = streams.filter { $0.value.env == env }.map(\.key)
                return keys.compactMap { streams.removeValue(forKey: $0)?.promise }
            }
            for promise in cut { promise.succeed(.close(ticket: nil)) }
        }

        func url(_ env: ServedBy) -> String { values.withLock { env == .green ? $0.green : $0.blue } }

        /// Answers `promise` with the answer of the next chat request to `env`, and that one
        /// with `plan`; an answer left alone for 100 ms goes to its own client.
        func swap(_ plan: ResponsePlan, _ promise: EventLoopPromise<ResponsePlan>, on env: ServedBy) {
            let key = UInt64(next.add(1, ordering: .relaxed).newValue)
            let partner: (key: UInt64, promise: EventLoopPromise<ResponsePlan>, plan: ResponsePlan)? = waiting.withLock { slots in
                if let partner = slots.removeValue(forKey: env) { return partner }
                slots[env] = (key, promise, plan)
                return nil
            }
            guard let partner else {
                Task {
                    try? await Task.sleep(for: .milliseconds(100))
                    let alone = self.waiting.withLock { slots -> (promise: EventLoopPromise<ResponsePlan>, plan: ResponsePlan)? in
                        guard let parked = slots[env], parked.key == key else { return nil }
                        slots[env] = nil
                        return (parked.promise, parked.plan)
                    }
                    if let alone { alone.promise.succeed(alone.plan) }
                }
                return
            }
            partner.promise.succeed(plan)
            promise.succeed(partner.plan)
        }

        /// The cached answer for `key`, after storing `plan` there when it is the first.
        func cached(_ key: String, else plan: ResponsePlan?) -> ResponsePlan? {
            cache.withLock { cache in
                if let hit = cache[key] { return hit }
                if let plan { cache[key] = plan }
                return nil
            }
        }

        func client() -> CurlClient { clients[next.add(1, ordering: .relaxed).newValue % clients.count] }

        /// Blue or green for one request.
        func choose(session: String?) -> ServedBy {
            let (weight, salt) = values.withLock { ($0.weight, $0.salt) }
            var effective = weight
            if case .skewedSplit(let extra) = flaw, weight > 0, weight < 100 { effective = min(100, weight + extra) }
            guard let session, flaw != .randomSplit else { return Int.random(in: 0..<100) < effective ? .green : .blue }
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ salt
            for byte in session.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            return Int((hash ^ (hash >> 29)) % 100) < effective ? .green : .blue
        }

        var slowNow: Duration? {
            guard case .slowAfterSwitch(let delay, let share) = flaw, let changed = values.withLock({ $0.changedAt }),
                ContinuousClock.now - changed < .seconds(1)
            else {
                return nil
            }
            return share >= 1 || Double.random(in: 0..<1) < share ? delay : nil
        }
    }

    /// The request path: choose, forward with libcurl, relay (or mangle) the answer.
    final class Forwarder: HTTPResponder {
        let state: Shared

        init(state: Shared) { self.state = state }

        func plan(for request: HTTPRequest, on eventLoop: any EventLoop) -> ResponsePlan {
            // Decide on arrival, as a real router does; forwarding may wait for a free client.
            let env = state.choose(session: request.head.headers.first(name: "X-Session-ID"))
            let delay = state.slowNow
            let state = self.state
            let isChat = request.head.method == .POST
            let chatKind = state.flaw == .answersFromCache && isChat ? Self.cacheKey(request.bodyBytes) : ""
            if case .rejectsBodiesOver(let limit) = state.flaw, request.body.readableBytes > limit {
                return .respond(
                    PlannedResponse(
                        status: .payloadTooLarge, headers: ["Content-Type": "application/json"],
                        body: .full(ByteBuffer(string: #"{"error":{"message":"request body too large"}}"#))))
            }
            if state.flaw == .refusesHTTP10, request.head.version == .http1_0 {
                return .respond(
                    PlannedResponse(status: .upgradeRequired, headers: ["Content-Type": "text/plain"], body: .full(ByteBuffer(string: "Upgrade Required"))))
            }
            if state.flaw == .closesReusedBeforeForwarding, isChat, request.indexOnConnection > 0, request.indexOnConnection % 3 == 0 {
                // The request never reaches an upstream; the client never hears back on this connection.
                return .close(ticket: nil)
            }
            if state.flaw == .answersFromCache, isChat, let hit = state.cached(chatKind, else: nil) { return hit }
            let promise = eventLoop.makePromise(of: ResponsePlan.self)
            let isStream =
                state.flaw == .cutsOldStreamsAtSwitch && request.bodyBytes.count < 4_096
                && String(decoding: request.bodyBytes, as: UTF8.self).contains(#""stream":true"#)
            let key = isStream ? state.opened(env, promise) : nil
            if state.flaw == .mirrorsToGreen, isChat {
                let copy = request
                Task { _ = await Self.send(copy, to: .green, state: state, requestID: "mirror-\(UUID().uuidString.prefix(8))") }
            }
            Task {
                let plan = await Self.forward(request, to: env, after: delay, state: state)
                if state.flaw == .answersFromCache, isChat, case .respond(let answer) = plan, answer.status == .ok {
                    promise.succeed(state.cached(chatKind, else: plan) ?? plan)
                } else if state.flaw == .swapsAnswers, isChat, !request.bodyBytes.isEmpty, case .respond(let answer) = plan, answer.status == .ok {
                    state.swap(plan, promise, on: env)
                } else if let key {
                    // A cut may have answered it already.
                    state.closed(key)?.succeed(plan)
                } else if state.flaw == .resetsReusedConnections, request.indexOnConnection > 0, request.indexOnConnection % 3 == 0 {
                    // The upstream has executed it; the client never hears back on this connection.
                    promise.succeed(.close(ticket: nil))
                } else {
                    promise.succeed(plan)
                }
            }
            return .deferred(promise.futureResult)
        }

        func finished(ticket: UInt64, _ end: ExchangeEnd) {}

        /// What the cache keys a chat request by: its model and whether it streams.
        static func cacheKey(_ body: [UInt8]) -> String {
            let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
            return "\(object?["model"] as? String ?? "?")-\(object?["stream"] as? Bool ?? false)"
        }

        /// Sends `request` to `env` as this router forwards it (with its flaws on the way up).
        static func send(_ request: HTTPRequest, to env: ServedBy, state: Shared, requestID: String? = nil) async -> CurlResponse {
            var passed = ["x-request-id", "x-session-id", "content-type"] + (state.flaw == .stripsAuthorization ? [] : ["authorization"])
            if state.flaw == .stripsSessionHeader { passed.removeAll { $0 == "x-session-id" } }
            let uri = state.flaw == .rewritesPath ? request.head.uri.replacingOccurrences(of: "/v1/", with: "/v2/") : request.head.uri
            var headers = request.head.headers.filter { passed.contains($0.name.lowercased()) }.map { (name: $0.name, value: $0.value) }
            if let requestID {
                headers.removeAll { $0.name.lowercased() == "x-request-id" }
                headers.append((name: "X-Request-ID", value: requestID))
            }
            var body = request.head.method == .POST ? request.bodyBytes : nil
            if let original = body, var object = (try? JSONSerialization.jsonObject(with: Data(original))) as? [String: Any] {
                switch state.flaw {
                case .rewritesModel(let from, let to) where object["model"] as? String == from: object["model"] = to
                case .capsMaxTokens(let limit): object["max_tokens"] = min(limit, object["max_tokens"] as? Int ?? limit)
                default: break
                }
                if case .rewritesModel = state.flaw { body = try? Array(JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) }
                if case .capsMaxTokens = state.flaw { body = try? Array(JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) }
            }
            return await state.client().send(
                CurlRequest(method: request.head.method.rawValue, url: state.url(env) + uri, headers: headers, body: body, timeoutMs: 30_000))
        }

        static func forward(_ request: HTTPRequest, to chosen: ServedBy, after delay: Duration?, state: Shared) async -> ResponsePlan {
            if let delay { try? await Task.sleep(for: delay) }
            if state.flaw == .reusesClosedConnections, !String(decoding: request.bodyBytes, as: UTF8.self).contains(#""stream":true"#) {
                return await naive(request, to: chosen, state: state)
            }
            var env = chosen
            func send(to env: ServedBy) async -> CurlResponse { await Self.send(request, to: env, state: state) }
            var response = await send(to: env)
            // Fail over only when the connection was refused: nothing reached the upstream.
            if response.status == 0, response.error?.errorClass == .refused, state.flaw != .noFailover {
                env = env == .green ? .blue : .green
                response = await send(to: env)
            }
            if state.flaw == .retriesErrors, response.status >= 500 || (response.status == 0 && response.error?.errorClass == .reset) {
                env = env == .green ? .blue : .green
                response = await send(to: env)
            }
            guard response.status != 0 else {
                return .respond(
                    PlannedResponse(
                        status: .badGateway, headers: ["Content-Type": "application/json"],
                        body: .full(ByteBuffer(string: #"{"error":{"message":"upstream failed: \#(response.error?.description ?? "")"}}"#))))
            }
            if response.status >= 500, state.flaw == .rewritesErrors {
                return .respond(
                    PlannedResponse(
                        status: .badGateway, headers: ["Content-Type": "application/json"], body: .full(ByteBuffer(string: #"{"error":"upstream failed"}"#))))
            }
            var out = HTTPHeaders()
            for (name, value) in response.headers {
                let lower = name.lowercased()
                let relayed =
                    ["content-type", "x-upstream-env", "x-mock-fault", "x-request-id", "retry-after"].contains(lower) || lower.hasPrefix("x-ratelimit-")
                if relayed, !(state.flaw == .stripsRetryAfter && lower == "retry-after") { out.add(name: name, value: value) }
            }
            out.add(name: "X-Environment", value: state.flaw == .liesAboutEnvironment ? "blue" : env.name)
            var body = response.body
            let isStream = response.header("content-type")?.hasPrefix("text/event-stream") == true
            if response.status == 200 {
                if state.flaw == .truncatesBodies, !isStream { body.removeLast(min(8, body.count)) }
                if state.flaw == .dropsLastEvent, isStream, let last = Self.lastEventStart(body) { body.removeSubrange(last...) }
            }
            if state.flaw == .reencodes { body = isStream ? Self.reframed(response.events) : Self.reencoded(body) }
            return .respond(PlannedResponse(status: HTTPResponseStatus(statusCode: response.status), headers: out, body: .full(ByteBuffer(bytes: body))))
        }

        /// Forwards on the naive pool: a connection the upstream closed is a 502.
        static func naive(_ request: HTTPRequest, to env: ServedBy, state: Shared) async -> ResponsePlan {
            let passed = ["x-request-id", "x-session-id", "content-type", "authorization"]
            let url = URLComponents(string: state.url(env))
            let (host, port) = (url?.host ?? "127.0.0.1", url?.port ?? 80)
            let address = "\(host):\(port)"
            var head = HTTPRequestHead(version: .http1_1, method: request.head.method, uri: request.head.uri)
            for (name, value) in request.head.headers where passed.contains(name.lowercased()) { head.headers.add(name: name, value: value) }
            head.headers.add(name: "Host", value: address)
            head.headers.add(name: "Content-Length", value: String(request.body.readableBytes))
            let answer = await state.naivePool.send(
                host: host, port: port, head: head,
                body: request.body.readableBytes > 0 ? request.body : nil)
            guard case .response(let response, let body) = answer else {
                let reason: String
                if case .failed(let text) = answer { reason = text } else { reason = "" }
                return .respond(
                    PlannedResponse(
                        status: .badGateway, headers: ["Content-Type": "application/json"],
                        body: .full(ByteBuffer(string: #"{"error":{"message":"upstream failed: \#(reason)"}}"#))))
            }
            var out = HTTPHeaders()
            for (name, value) in response.headers {
                let lower = name.lowercased()
                if ["content-type", "x-upstream-env", "x-mock-fault", "x-request-id", "retry-after"].contains(lower) || lower.hasPrefix("x-ratelimit-") {
                    out.add(name: name, value: value)
                }
            }
            out.add(name: "X-Environment", value: env.name)
            return .respond(PlannedResponse(status: response.status, headers: out, body: .full(body)))
        }

        /// A JSON body re-serialized as a gateway would: its own key order and spacing.
        static func reencoded(_ body: [UInt8]) -> [UInt8] {
            guard let object = try? JSONSerialization.jsonObject(with: Data(body)),
                let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            else { return body }
            return Array(data)
        }

        /// A stream re-framed as a gateway would: each event's JSON re-serialized, CRLF line
        /// ends, and a `:` comment line before every event.
        static func reframed(_ events: [SSEEvent]) -> [UInt8] {
            var out: [UInt8] = []
            for event in events {
                out += Array(": keep-alive\r\n\r\n".utf8)
                let data = event.isDone ? Array(event.data.utf8) : reencoded(Array(event.data.utf8)).filter { $0 != UInt8(ascii: "\n") }
                out += Array("data: ".utf8) + data + Array("\r\n\r\n".utf8)
            }
            return out
        }

        /// Where the last SSE event of a stream body begins (after the previous blank line).
        static func lastEventStart(_ body: [UInt8]) -> Int? {
            var end = body.count
            while end > 0, body[end - 1] == UInt8(ascii: "\n") { end -= 1 }
            var index = end - 1
            while index > 0 {
                if body[index] == UInt8(ascii: "\n"), body[index - 1] == UInt8(ascii: "\n") { return index + 1 }
                index -= 1
            }
            return nil
        }
    }
}
