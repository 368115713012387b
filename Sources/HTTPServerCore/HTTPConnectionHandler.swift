import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Carries out `ResponsePlan`s on one connection: delays, paced streams with
/// backpressure, and the transport faults (cut, reset, hang) that need the socket.
final class HTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Largest request body accepted; larger ones get 413.
    static let maxBodyBytes = 4 << 20

    private let responder: any HTTPResponder
    private let registry: ConnectionRegistry
    private let logger: Logger

    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var bodyTooLarge = false
    private var current: Exchange?
    /// Requests this connection has carried so far.
    private var requestsSeen = 0

    /// The response in progress on this connection.
    private struct Exchange {
        var ticket: UInt64?
        var status: Int?
        var bytes = 0
        var chunks = 0
        var keepAlive: Bool
        var timer: Scheduled<Void>?
    }

    init(responder: any HTTPResponder, registry: ConnectionRegistry, logger: Logger) {
        self.responder = responder
        self.registry = registry
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = nil
            bodyTooLarge = false
        case .body(var chunk):
            guard !bodyTooLarge else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > Self.maxBodyBytes {
                bodyTooLarge = true
                body = nil
            } else if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            current = Exchange(keepAlive: requestHead.isKeepAlive)
            if bodyTooLarge {
                let message = #"{"error":{"message":"Request body larger than 4 MiB.","type":"invalid_request_error","param":null,"code":null}}"#
                var headers = HTTPHeaders([("content-type", "application/json")])
                headers.add(name: "connection", value: "close")
                current?.keepAlive = false
                respond(context: context, PlannedResponse(status: .payloadTooLarge, headers: headers, body: .full(ByteBuffer(string: message))))
                return
            }
            let request = HTTPRequest(head: requestHead, body: body ?? ByteBuffer(), indexOnConnection: requestsSeen)
            requestsSeen += 1
            body = nil
            execute(context: context, responder.plan(for: request, on: context.eventLoop))
        }
    }

    private func execute(context: ChannelHandlerContext, _ plan: ResponsePlan) {
        switch plan {
        case .respond(let response):
            current?.ticket = response.ticket
            after(response.delayMs, context: context) { self.respond(context: context, response) }
        case .reset(let ticket, let delayMs):
            current?.ticket = ticket
            after(delayMs, context: context) { self.reset(context: context) }
        case .hang(let ticket):
            current?.ticket = ticket
            registry.markHung(context.channel)
        case .close(let ticket):
            current?.ticket = ticket
            end(.reset)
            context.close(promise: nil)
        case .deferred(let future):
            future.hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
                switch result {
                case .success(let plan): self.execute(context: context, plan)
                case .failure(let error):
                    self.logger.error("responder failed: \(error)")
                    self.end(.reset)
                    context.close(promise: nil)
                }
            }
        }
    }

    /// Runs `body` after `delayMs`, or now.
    private func after(_ delayMs: Double, context: ChannelHandlerContext, _ body: @escaping () -> Void) {
        guard delayMs > 0 else { return body() }
        current?.timer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(delayMs * 1_000_000))) {
            body()
        }
    }

    private func respond(context: ChannelHandlerContext, _ response: PlannedResponse) {
        guard context.channel.isActive, var exchange = current else { return }
        exchange.status = Int(response.status.code)
        var headers = response.headers
        if !exchange.keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        let version = HTTPVersion(major: 1, minor: 1)
        switch response.body {
        case .full(let buffer):
            headers.replaceOrAdd(name: "content-length", value: String(buffer.readableBytes))
            exchange.bytes = buffer.readableBytes
            current = exchange
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
            if buffer.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { result in
                self.completed(context: context, result)
            }
        case .truncated(let buffer, let promised):
            headers.replaceOrAdd(name: "content-length", value: String(promised))
            exchange.bytes = buffer.readableBytes
            current = exchange
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer)))).assumeIsolated().whenComplete { _ in
                self.end(.cut)
                context.close(promise: nil)
            }
        case .stream(let script):
            headers.remove(name: "content-length")
            current = exchange
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
            streamStep(context: context, script: script, index: 0, stalled: false)
        }
    }

    /// Writes stream frame `index` after its pace delay; the next frame waits for this
    /// write to complete, which is the backpressure from a slow reader.
    private func streamStep(context: ChannelHandlerContext, script: StreamScript, index: Int, stalled: Bool) {
        guard context.channel.isActive, current != nil else { return }
        if index == script.frameCount {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { result in
                self.completed(context: context, result)
            }
            return
        }
        switch script.fault {
        case .cut(let count) where index == count:
            end(.cut)
            context.close(promise: nil)
            return
        case .stall(let count, let stallMs) where index == count && !stalled:
            after(stallMs, context: context) { self.streamStep(context: context, script: script, index: index, stalled: true) }
            return
        case .error(let count, let frame) where index == count:
            current?.bytes += frame.utf8.count
            current?.chunks += 1
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: frame)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { result in
                self.completed(context: context, result)
            }
            return
        default:
            break
        }
        let delay = script.pace?.delayMs(before: index) ?? 0
        after(delay, context: context) {
            guard context.channel.isActive else { return }
            let frame = script.frames.frame(index)
            self.current?.bytes += frame.utf8.count
            self.current?.chunks += 1
            context.writeAndFlush(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: frame))))).assumeIsolated().whenComplete { result in
                switch result {
                case .success: self.streamStep(context: context, script: script, index: index + 1, stalled: false)
                case .failure: self.end(.clientGone)
                }
            }
        }
    }

    private func completed(context: ChannelHandlerContext, _ result: Result<Void, any Error>) {
        guard let exchange = current else { return }
        switch result {
        case .success:
            end(.completed)
            if !exchange.keepAlive { context.close(promise: nil) }
        case .failure:
            end(.clientGone)
        }
    }

    /// RST instead of FIN: SO_LINGER with a zero timeout makes close() abort the connection.
    private func reset(context: ChannelHandlerContext) {
        end(.reset)
        guard let socket = context.channel as? any SocketOptionProvider else {
            context.close(promise: nil)
            return
        }
        socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).hop(to: context.eventLoop)
            .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// Records how the current exchange ended, once.
    private func end(_ outcome: RequestOutcome) {
        guard let exchange = current else { return }
        current = nil
        exchange.timer?.cancel()
        if let ticket = exchange.ticket {
            responder.finished(ticket: ticket, status: exchange.status, outcome: outcome, bytes: exchange.bytes, chunks: exchange.chunks)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ConnectionRegistry.Event.outage:
            // The upstream "died": abort like a crashed process would.
            reset(context: context)
        case ConnectionRegistry.Event.releaseHung:
            end(.hung)
            context.close(promise: nil)
        case ConnectionRegistry.Event.shutdown:
            end(registry.isHung(context.channel) ? .hung : .reset)
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if current?.ticket != nil, registry.isHung(context.channel) {
            end(.hung)
        } else {
            end(.clientGone)
        }
        registry.remove(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error: \(error)")
        end(.clientGone)
        context.close(promise: nil)
    }
}
