import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Carries out `ResponsePlan`s on one connection: delays, paced streams with
/// backpressure, and the transport faults (cut, reset, hang) that need the socket.
final class HTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler, PacingWheel.Sleeper {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Largest request body accepted; larger ones get 413.
    static let maxBodyBytes = 4 << 20

    private let responder: any HTTPResponder
    private let registry: ConnectionRegistry
    private let logger: Logger
    /// This loop's pacing wheel: paced streams wait on it, not on a NIO timer each.
    private let wheel: PacingWheel
    private let pacing: LatenessStats
    private var context: ChannelHandlerContext?

    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var bodyTooLarge = false
    private var current: Exchange?
    /// Requests this connection has carried so far.
    private var requestsSeen = 0
    /// The paced stream being written, if any.
    private var stream: PacedStream?

    /// A stream in progress: the next frame and when it is due. Due times are absolute (the
    /// head's time plus the delays before each frame), so frames that fell due while the
    /// loop was busy or the client slow leave together in one write, and the pace holds.
    private final class PacedStream {
        let script: StreamScript
        /// `script.frameCount`, read once (it is an existential call).
        let frameCount: Int
        var index = 0
        var due: NIODeadline
        var stalled = false
        /// Waiting for the client to read before writing more.
        var waitingForClient = false
        /// The latest wake asked of the wheel.
        var ticket: UInt64 = 0

        init(script: StreamScript, due: NIODeadline) {
            self.script = script
            self.frameCount = script.frameCount
            self.due = due
        }
    }

    /// The response in progress on this connection.
    private struct Exchange {
        var ticket: UInt64?
        var status: Int?
        var bytes = 0
        var chunks = 0
        /// Of the body bytes written so far.
        var digest = Digest64()
        var contentDigest: UInt64?
        var interruptedBy: String?
        var keepAlive: Bool
        var timer: Scheduled<Void>?
    }

    init(responder: any HTTPResponder, registry: ConnectionRegistry, wheel: PacingWheel, pacing: LatenessStats, logger: Logger) {
        self.responder = responder
        self.registry = registry
        self.wheel = wheel
        self.pacing = pacing
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// The wheel's call: the paced stream's next frame is due.
    func wake(ticket: UInt64) {
        guard let context, let paced = stream, paced.ticket == ticket else { return }
        pump(context: context)
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
        exchange.contentDigest = response.contentDigest
        var headers = response.headers
        if !exchange.keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        let version = HTTPVersion(major: 1, minor: 1)
        switch response.body {
        case .full(let buffer):
            headers.replaceOrAdd(name: "content-length", value: String(buffer.readableBytes))
            exchange.bytes = buffer.readableBytes
            buffer.withUnsafeReadableBytes { exchange.digest.add($0) }
            current = exchange
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
            if buffer.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { result in
                self.completed(context: context, result)
            }
        case .truncated(let buffer, let promised):
            headers.replaceOrAdd(name: "content-length", value: String(promised))
            exchange.bytes = buffer.readableBytes
            buffer.withUnsafeReadableBytes { exchange.digest.add($0) }
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
            stream = PacedStream(script: script, due: .now() + Self.delay(script, before: 0))
            pump(context: context)
        }
    }

    private static func delay(_ script: StreamScript, before index: Int) -> TimeAmount {
        guard let pace = script.pace else { return .zero }
        return .nanoseconds(Int64(pace.delayMs(before: index) * 1_000_000))
    }

    /// Writes every frame that is due, in one write, then waits for the next frame's time or
    /// for the client to read (the backpressure from a slow reader).
    private func pump(context: ChannelHandlerContext) {
        guard context.channel.isActive, current != nil, let paced = stream else { return }
        let script = paced.script
        var out: ByteBuffer?
        func send() {
            if let buffer = out {
                out = nil
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            }
        }
        let now = NIODeadline.now()
        while true {
            let index = paced.index
            if index == paced.frameCount {
                send()
                stream = nil
                context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { result in
                    self.completed(context: context, result)
                }
                return
            }
            switch script.fault {
            case .cut(let count) where index == count:
                send()
                stream = nil
                end(.cut)
                context.close(promise: nil)
                return
            case .stall(let count, let stallMs) where index == count && !paced.stalled:
                // The stall pushes the rest of the stream back.
                paced.stalled = true
                paced.due = max(paced.due, now) + .nanoseconds(Int64(stallMs * 1_000_000))
                continue
            case .error(let count, let frame) where index == count:
                send()
                stream = nil
                current?.bytes += frame.utf8.count
                current?.chunks += 1
                current?.digest.add(frame)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: frame)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { result in
                    self.completed(context: context, result)
                }
                return
            default:
                break
            }
            guard paced.due <= now else { break }
            if script.pace != nil { pacing.record(lateUs: UInt64(max(0, (now - paced.due).nanoseconds / 1_000))) }
            if out == nil { out = context.channel.allocator.buffer(capacity: 512) }
            let before = out!.readableBytes
            script.frames.write(index, into: &out!)
            current?.bytes += out!.readableBytes - before
            out!.withUnsafeReadableBytes { current?.digest.add(UnsafeRawBufferPointer(rebasing: $0[before...])) }
            current?.chunks += 1
            paced.index += 1
            paced.due = paced.due + Self.delay(script, before: paced.index)
        }
        send()
        if context.channel.isWritable {
            paced.waitingForClient = false
            paced.ticket = wheel.ticket()
            wheel.wake(self, ticket: paced.ticket, at: paced.due)
        } else {
            paced.waitingForClient = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let paced = stream, paced.waitingForClient {
            paced.waitingForClient = false
            pump(context: context)
        }
        context.fireChannelWritabilityChanged()
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
        stream = nil
        exchange.timer?.cancel()
        if let ticket = exchange.ticket {
            responder.finished(
                ticket: ticket,
                ExchangeEnd(
                    status: exchange.status, outcome: outcome, bytes: exchange.bytes, chunks: exchange.chunks, bodyDigest: exchange.digest.value,
                    contentDigest: exchange.contentDigest, interruptedBy: exchange.interruptedBy))
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ConnectionRegistry.Event.outage(let cause):
            // The upstream "died": abort like a crashed process would, and say which fault did it.
            current?.interruptedBy = cause
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
