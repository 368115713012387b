import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Carries out `ResponsePlan`s on one connection: delays, paced streams with
/// backpressure, and the transport faults (cut, reset, hang, the byte-level shaping and
/// the idle close) that need the socket.
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
    /// The byte-level faults on the body being written, if any.
    private var shaper: WireShaper?
    /// The idle close armed after the last answer (idle-close), until a request comes.
    private var idleTimer: Scheduled<Void>?
    /// Whether body writes keep their future: only a response that may be cut (truncated,
    /// a stream with a cut, any shaped one) waits for its last write before the close.
    private var tracksWrites = false

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
        /// The version the answer is framed for: an HTTP/1.0 client gets no chunked body
        /// (RFC 9112 §6.1), so a stream without a length ends at the close.
        var version: HTTPVersion
        var timer: Scheduled<Void>?
        /// Close the connection once it has been idle this long after this answer.
        var idleCloseMs: Double?
        /// The latest body write, which a cut waits for.
        var lastWrite: EventLoopFuture<Void>?
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
            idleTimer?.cancel()
            idleTimer = nil
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
            current = Exchange(keepAlive: requestHead.isKeepAlive, version: requestHead.version == .http1_0 ? .http1_0 : .http1_1)
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
        exchange.idleCloseMs = response.wire.idleCloseMs
        shaper = response.wire.shapesBody ? WireShaper(response.wire) : nil
        switch response.body {
        case .truncated: tracksWrites = true
        case .stream(let script): tracksWrites = shaper != nil || { if case .cut = script.fault { true } else { false } }()
        case .full: tracksWrites = shaper != nil
        }
        var headers = response.headers
        // An HTTP/1.0 answer without a length (a stream) ends only at the close, even when
        // the request asked to keep the connection (`Connection: keep-alive`, as proxies send).
        if exchange.version == .http1_0, case .stream = response.body { exchange.keepAlive = false }
        if !exchange.keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        let version = exchange.version
        switch response.body {
        case .full(let buffer):
            headers.replaceOrAdd(name: "content-length", value: String(buffer.readableBytes))
            current = exchange
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
            // Head, body and end leave in one flush (the end's).
            emitBody(context: context, buffer, flush: false)
            finishBody(context: context, .end)
        case .truncated(let buffer, let promised):
            headers.replaceOrAdd(name: "content-length", value: String(promised))
            current = exchange
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
            emitBody(context: context, buffer, flush: false)
            finishBody(context: context, .cut)
        case .stream(let script):
            headers.remove(name: "content-length")
            current = exchange
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
            stream = PacedStream(script: script, due: .now() + Self.delay(script, before: 0))
            pump(context: context)
        }
    }

    /// Writes body bytes, now or through the shaper, and counts them as they go out: the
    /// ledger holds what left, not what was planned. Without `flush`, the next flush (the
    /// end's) takes them.
    private func emitBody(context: ChannelHandlerContext, _ buffer: ByteBuffer, flush: Bool = true) {
        guard buffer.readableBytes > 0 else { return }
        if let shaper {
            shaper.enqueue(buffer)
            drain(context: context)
        } else {
            writeBody(context: context, buffer, flush: flush)
        }
    }

    private func writeBody(context: ChannelHandlerContext, _ buffer: ByteBuffer, flush: Bool = true) {
        current?.bytes += buffer.readableBytes
        buffer.withUnsafeReadableBytes { current?.digest.add($0) }
        let part = wrapOutboundOut(.body(.byteBuffer(buffer)))
        if tracksWrites {
            current?.lastWrite = flush ? context.writeAndFlush(part) : context.write(part)
        } else if flush {
            context.writeAndFlush(part, promise: nil)
        } else {
            context.write(part, promise: nil)
        }
    }

    /// Ends the body once every byte handed over is out: cleanly, or by closing the
    /// connection (a truncated body, a stream cut).
    private func finishBody(context: ChannelHandlerContext, _ finish: WireShaper.Finish) {
        if let shaper {
            shaper.finish = finish
            drain(context: context)
            return
        }
        switch finish {
        case .end:
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { result in
                self.completed(context: context, result)
            }
        case .cut:
            cut(context: context)
        }
    }

    /// Closes the connection mid-body, once the last write is out.
    private func cut(context: ChannelHandlerContext) {
        stream = nil
        shaper = nil
        context.flush()
        guard let lastWrite = current?.lastWrite else {
            end(.cut)
            context.close(promise: nil)
            return
        }
        lastWrite.assumeIsolated().whenComplete { _ in
            self.end(.cut)
            context.close(promise: nil)
        }
    }

    /// Writes what the shaper lets out now, then waits for its next piece's time.
    private func drain(context: ChannelHandlerContext) {
        guard let shaper, context.channel.isActive, current != nil else { return }
        shaper.timer = nil
        while true {
            switch shaper.next(now: .now()) {
            case .write(let piece, let cutAfter):
                writeBody(context: context, piece)
                if cutAfter { return cut(context: context) }
            case .cut:
                return cut(context: context)
            case .wait(let deadline):
                shaper.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.drain(context: context) }
                return
            case .drained:
                switch shaper.finish {
                case .end?:
                    self.shaper = nil
                    finishBody(context: context, .end)
                case .cut?:
                    cut(context: context)
                case nil:
                    // A stream waits for its next frames.
                    if let paced = stream, paced.waitingForClient {
                        paced.waitingForClient = false
                        pump(context: context)
                    }
                }
                return
            }
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
                emitBody(context: context, buffer)
            }
        }
        let now = NIODeadline.now()
        while true {
            let index = paced.index
            if index == paced.frameCount {
                stream = nil
                send()
                finishBody(context: context, .end)
                return
            }
            switch script.fault {
            case .cut(let count) where index == count:
                stream = nil
                send()
                finishBody(context: context, .cut)
                return
            case .stall(let count, let stallMs) where index == count && !paced.stalled:
                // The stall pushes the rest of the stream back.
                paced.stalled = true
                paced.due = max(paced.due, now) + .nanoseconds(Int64(stallMs * 1_000_000))
                continue
            case .error(let count, let frame) where index == count:
                stream = nil
                if out == nil { out = context.channel.allocator.buffer(capacity: frame.utf8.count) }
                out!.writeString(frame)
                current?.chunks += 1
                send()
                finishBody(context: context, .end)
                return
            default:
                break
            }
            guard paced.due <= now else { break }
            if script.pace != nil { pacing.record(lateUs: UInt64(max(0, (now - paced.due).nanoseconds / 1_000))) }
            if out == nil { out = context.channel.allocator.buffer(capacity: 512) }
            script.frames.write(index, into: &out!)
            current?.chunks += 1
            paced.index += 1
            paced.due = paced.due + Self.delay(script, before: paced.index)
        }
        send()
        guard stream != nil else { return }  // a limit cut it while sending
        if context.channel.isWritable, !(shaper?.hasPending ?? false) {
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
            if !exchange.keepAlive {
                context.close(promise: nil)
            } else if let idleMs = exchange.idleCloseMs {
                armIdleClose(context: context, afterMs: idleMs)
            }
        case .failure:
            end(.clientGone)
        }
    }

    /// Closes the connection (a FIN, no `Connection: close` before it) if no request has
    /// begun by then: the upstream's side of the keep-alive race.
    private func armIdleClose(context: ChannelHandlerContext, afterMs idleMs: Double) {
        idleTimer?.cancel()
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(idleMs * 1_000_000))) {
            self.idleTimer = nil
            guard self.head == nil, self.current == nil, context.channel.isActive else { return }
            self.responder.closedIdle()
            context.close(promise: nil)
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
        shaper?.timer?.cancel()
        shaper = nil
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
        idleTimer?.cancel()
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
