import Foundation
import HTTPServerCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The client end of the proxy, one per client connection. It reads HTTP/1.x off the wire
/// itself (`MessageHead`, `BodyFraming`): for each request it picks the environment from the
/// session key, gets an upstream connection on the same event loop (pooled or new), writes
/// the rewritten head and relays the body's bytes as they came, and relays the response the
/// same way. Bodies and streams are never decoded, so an SSE event leaves as it arrived.
///
/// Failover: a connect failure, before any byte of the request was sent, is retried once
/// on the other environment. Once sent, a request is never retried (no double execution).
///
/// Pipelining: bytes of a request that arrive before the previous response ended wait in
/// `inbound`, and reads are held back only then.
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let proxy: ProxyContext
    private let logger: Logger
    private var context: ChannelHandlerContext?
    /// The upstream connections of this connection's event loop.
    private var pool: UpstreamPool?
    private var exchange: Exchange?
    /// Where the connection is in its exchange, and whether it is closing.
    private var machine = StateMachine()
    /// Bytes read and not yet handled: a head still arriving, or pipelined requests.
    private var inbound: ByteBuffer?
    /// How far `MessageHead.take` has looked into `inbound` for a head's end.
    private var scanned = 0
    /// A `read()` held back (pipelined bytes waiting, or a slow upstream).
    private var readHeld = false
    /// Request body bytes written upstream since the last flush.
    private var upstreamUnflushed = false
    /// Response bytes for the client gathered within one upstream read: a head and the small
    /// body after it leave in one buffer (one `write` instead of a `writev` of two).
    private var gathered: ByteBuffer?

    /// Bodies up to this size are copied into `gathered`; larger ones are written as they are.
    private static let gatherLimit = 8 * 1024

    /// Request body bytes kept while the upstream connects, before reads are held back.
    private static let pendingBodyLimit = 256 * 1024

    /// One request in flight on this connection.
    private final class Exchange {
        let head: MessageHead
        var body: BodyFraming
        var environment: Environment
        /// The client's `X-Request-ID`, or one the router made (then `generated`).
        let requestID: ByteBuffer
        let generated: Bool
        let clientKeepAlive: Bool
        var pendingBody: [ByteBuffer] = []
        var pendingBytes = 0
        /// The upstream connection's handler; it holds the connection.
        var upstream: UpstreamHandler?
        /// Upstream reads paused because the client is not keeping up.
        var upstreamPaused = false

        init(head: MessageHead, body: BodyFraming, environment: Environment, requestID: ByteBuffer, generated: Bool) {
            self.head = head
            self.body = body
            self.environment = environment
            self.requestID = requestID
            self.generated = generated
            self.clientKeepAlive = head.keepAlive
        }
    }

    init(proxy: ProxyContext, logger: Logger) {
        self.proxy = proxy
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.pool = proxy.pool(on: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: - Client side

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !machine.isClosed else { return }
        let buffer = unwrapInboundIn(data)
        if var waiting = inbound {
            inbound = nil
            waiting.writeImmutableBuffer(buffer)
            inbound = waiting
        } else {
            inbound = buffer
        }
        process()
    }

    /// Handles what `inbound` holds: the current request's body, then (once its response has
    /// ended) the next request.
    private func process() {
        guard var buffer = inbound else { return }
        inbound = nil
        defer {
            if buffer.readableBytes > 0, !machine.isClosed { inbound = buffer }
            if upstreamUnflushed {
                upstreamUnflushed = false
                exchange?.upstream?.channel?.flush()
            }
        }
        while buffer.readableBytes > 0, !machine.isClosed {
            if let exchange {
                // Pipelined bytes wait for the response to end.
                if exchange.body.isComplete { return }
                let used: Int
                do {
                    used = try buffer.withUnsafeReadableBytes { try exchange.body.consume($0) }
                } catch {
                    badBody(exchange, reason: "the request's chunked body is malformed: \(error)")
                    return
                }
                relayBody(buffer.readSlice(length: used)!, exchange)
            } else {
                let head: MessageHead
                do {
                    guard let taken = try MessageHead.take(from: &buffer, kind: .request, scanned: &scanned) else { return }
                    head = taken
                } catch {
                    reject(status: error.status, reason: error.reason)
                    return
                }
                start(head)
            }
        }
    }

    /// A complete head: choose the environment and connect.
    private func start(_ head: MessageHead) {
        let body: BodyFraming
        do {
            body = try BodyFraming.request(head)
        } catch {
            reject(status: error.status, reason: error.reason)
            return
        }
        proxy.state.requestStarted()
        machine.requestStarted()
        let clientID = head.value(of: .requestID)
        let requestID = clientID ?? proxy.generateRequestID()
        let environment = proxy.state.select(sessionKeyBytes: head.value(of: proxy.sessionHeaderBytes)?.readableBytesView)
        exchange = Exchange(head: head, body: body, environment: environment, requestID: requestID, generated: clientID == nil)
        dispatch(to: environment)
    }

    private func relayBody(_ slice: ByteBuffer, _ exchange: Exchange) {
        guard slice.readableBytes > 0 else { return }
        if let channel = exchange.upstream?.channel {
            channel.write(slice, promise: nil)
            upstreamUnflushed = true
        } else {
            exchange.pendingBody.append(slice)
            exchange.pendingBytes += slice.readableBytes
        }
    }

    /// Holds back reads while pipelined requests wait, while the upstream cannot take more
    /// of a request body, or while too much body waits for a connection.
    func read(context: ChannelHandlerContext) {
        if holdReads {
            readHeld = true
        } else {
            context.read()
        }
    }

    private var holdReads: Bool {
        guard let exchange else { return false }
        if exchange.body.isComplete { return inbound != nil }
        if let channel = exchange.upstream?.channel { return !channel.isWritable }
        return exchange.pendingBytes > Self.pendingBodyLimit
    }

    private func resumeReads() {
        if readHeld, !holdReads, let context {
            readHeld = false
            context.read()
        }
    }

    /// Gets a connection to `environment` and sends the request on it.
    private func dispatch(to environment: Environment) {
        guard let context, let pool else { return }
        if let upstream = pool.take(environment) {
            attach(upstream, environment)
            return
        }
        let target = proxy.target(environment)
        // Made here, on this loop, and kept: attaching it needs no pipeline lookup.
        let upstream = NIOLoopBound(UpstreamHandler(environment: environment, pool: pool), eventLoop: context.eventLoop)
        ClientBootstrap(group: context.eventLoop)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(proxy.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(upstream.value)
                }
            }
            .connect(host: target.host, port: target.port)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success:
                    self.attach(upstream.value, environment)
                case .failure(let error):
                    self.connectFailed(environment, error)
                }
            }
    }

    /// Nothing was sent: retry once on the other environment, else answer 502.
    private func connectFailed(_ environment: Environment, _ error: any Error) {
        guard let exchange, exchange.environment == environment else { return }
        let next = machine.connectFailed()
        if next != .ignore { logger.debug("connect to \(environment.rawValue) failed: \(error)") }
        switch next {
        case .ignore:
            return
        case .tryTheOther:
            exchange.environment = environment.other
            proxy.state.countFailover()
            dispatch(to: environment.other)
        case .answerBadGateway:
            proxy.state.countUpstreamError()
            respondWithError(
                .badGateway, "No upstream environment could be reached (\(environment.other.rawValue) and \(environment.rawValue) refused the connection).",
                code: "upstream_unreachable")
        }
    }

    private func attach(_ upstream: UpstreamHandler, _ environment: Environment) {
        guard let channel = upstream.channel else { return }
        guard let context, context.channel.isActive, let exchange, machine.upstreamAttached() else {
            // The client left while we connected; the connection is clean, keep it.
            if let pool, context != nil { pool.put(upstream) } else { channel.close(promise: nil) }
            return
        }
        upstream.begin(self, toHEAD: exchange.head.isHEAD)
        exchange.upstream = upstream
        exchange.environment = environment
        proxy.state.countServed(by: environment)
        var head = channel.allocator.buffer(capacity: exchange.head.bytes.readableBytes + 96)
        exchange.head.writeUpstreamRequest(
            into: &head, host: proxy.target(environment).hostHeader, environment: environment,
            generatedRequestID: exchange.generated ? exchange.requestID : nil)
        channel.write(head, promise: nil)
        for buffer in exchange.pendingBody {
            channel.write(buffer, promise: nil)
        }
        exchange.pendingBody = []
        exchange.pendingBytes = 0
        channel.flush()
        resumeReads()
    }

    // MARK: - Upstream side (called by UpstreamHandler on this loop)

    /// A 1xx response (100 Continue, 103 Early Hints), relayed as it came.
    func upstreamInterim(_ head: MessageHead) {
        guard let context, exchange != nil else { return }
        machine.interimResponse()
        var out = takeGathered(context, capacity: head.bytes.readableBytes)
        head.writeInterimResponse(into: &out)
        gathered = out
    }

    /// The final response's head; `endsAtClose` when only the upstream's close ends its body.
    func upstreamHead(_ head: MessageHead, endsAtClose: Bool) {
        guard let context, let exchange else { return }
        // A response before the whole request was read ends the connection: the rest of the
        // request body cannot be told from a next request.
        let last = machine.responseHead(endsConnection: !exchange.clientKeepAlive || proxy.draining || endsAtClose || !exchange.body.isComplete)
        var out = takeGathered(context, capacity: head.bytes.readableBytes + 1024)
        head.writeClientResponse(into: &out, environment: exchange.environment, requestID: exchange.requestID, close: last)
        gathered = out
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        guard let context, buffer.readableBytes > 0 else { return }
        if var out = gathered, out.readableBytes + buffer.readableBytes <= Self.gatherLimit + 512 {
            gathered = nil
            out.writeImmutableBuffer(buffer)
            gathered = out
        } else {
            writeGathered(context)
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
    }

    /// The gathering buffer, emptied of what it held (written first), or a new one.
    private func takeGathered(_ context: ChannelHandlerContext, capacity: Int) -> ByteBuffer {
        writeGathered(context)
        return context.channel.allocator.buffer(capacity: capacity)
    }

    /// Writes what was gathered (not flushed).
    private func writeGathered(_ context: ChannelHandlerContext) {
        if let out = gathered {
            gathered = nil
            context.write(wrapOutboundOut(out), promise: nil)
        }
    }

    /// Flush once per upstream read batch; pause the upstream while the client is slow.
    func upstreamReadComplete() {
        guard let context else { return }
        writeGathered(context)
        context.flush()
        if !context.channel.isWritable, let exchange, let upstream = exchange.upstream?.channel, !exchange.upstreamPaused {
            exchange.upstreamPaused = true
            upstream.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }
    }

    /// The upstream can take more of the request body.
    func upstreamWritable() {
        resumeReads()
    }

    /// The response ended; `reusable` when the upstream connection is clean for another.
    func upstreamEnd(reusable: Bool) {
        guard let context, let exchange, exchange.upstream?.channel != nil else { return }
        let next = machine.responseEnded()
        endExchange(exchange, upstream: reusable && exchange.body.isComplete ? .reuse : .close)
        writeGathered(context)
        carryOn(next, context)
    }

    /// The upstream connection closed (or sent what is not HTTP) before the response ended;
    /// `reason` completes "The blue upstream …", `code` is the error's OpenAI-style code.
    func upstreamFailed(_ reason: String, code: String) {
        guard let exchange else { return }
        proxy.state.countUpstreamError()
        switch machine.upstreamFailed() {
        case .truncate:
            // Part of the response is out: the client must see the truncation, not a made-up end.
            endExchange(exchange, upstream: .leave)
            if let context {
                writeGathered(context)
                context.flush()
                context.close(promise: nil)
            }
        case .answerBadGateway:
            respondWithError(.badGateway, "The \(exchange.environment.rawValue) upstream \(reason).", code: code)
        }
    }

    // MARK: - Errors made by the router

    /// A JSON error in OpenAI's shape, made by the router (no upstream stamp).
    private func respondWithError(_ status: HTTPResponseStatus, _ message: String, code: String) {
        guard let context, let exchange else { return }
        // The rest of an unsent request body cannot be told from a next request.
        let next = machine.routerAnswered(endsConnection: !exchange.clientKeepAlive || proxy.draining || !exchange.body.isComplete)
        endExchange(exchange, upstream: .close)
        write(status, message, code: code, requestID: String(buffer: exchange.requestID), close: next == .close, context: context)
        carryOn(next, context)
    }

    /// How an ended exchange's upstream connection is left.
    private enum UpstreamAfterExchange {
        /// Clean: back to the pool (reads resumed if they were paused).
        case reuse
        /// In an unknown state: closed.
        case close
        /// The client left mid-exchange: the upstream handler lets go and closes it.
        case abandon
        /// Already broken off: nothing to do.
        case leave
    }

    /// The one place an exchange ends: the in-flight gauge counts it out, and its upstream
    /// connection is reused, closed, abandoned or left.
    private func endExchange(_ exchange: Exchange, upstream disposition: UpstreamAfterExchange) {
        self.exchange = nil
        proxy.state.requestEnded()
        guard let upstream = exchange.upstream else { return }
        switch disposition {
        case .reuse:
            if exchange.upstreamPaused { upstream.channel?.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in } }
            pool?.put(upstream)
        case .close:
            upstream.channel?.close(promise: nil)
        case .abandon:
            upstream.abandon()
        case .leave:
            break
        }
    }

    /// After an exchange: the next request on this connection, or its close.
    private func carryOn(_ next: StateMachine.AfterExchange, _ context: ChannelHandlerContext) {
        switch next {
        case .close:
            closeAfterFlush(context)
        case .readNext:
            context.flush()
            process()
            resumeReads()
        }
    }

    /// A request that is not HTTP/1.x as a proxy may pass on: answered, then the connection closes.
    private func reject(status: Int, reason: String) {
        guard let context else { return }
        logger.debug("bad request: \(reason)")
        write(HTTPResponseStatus(statusCode: status), "Bad request: \(reason).", code: "bad_request", requestID: nil, close: true, context: context)
        closeAfterFlush(context)
    }

    /// The request's body broke off mid-way: nothing more on this connection can be trusted.
    private func badBody(_ exchange: Exchange, reason: String) {
        logger.debug("request abandoned: \(reason)")
        switch machine.badBody() {
        case .dropAndClose:
            endExchange(exchange, upstream: .close)
            context?.close(promise: nil)
        case .answerBadRequest:
            respondWithError(.badRequest, "Bad request: \(reason).", code: "bad_request")
        }
    }

    private func write(_ status: HTTPResponseStatus, _ message: String, code: String, requestID: String?, close: Bool, context: ChannelHandlerContext) {
        let body = #"{"error":{"message":\#(JSON.quoted(message)),"type":"router_error","param":null,"code":"\#(code)"}}"#
        var out = context.channel.allocator.buffer(capacity: body.utf8.count + 256)
        out.writeString("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n")
        if let requestID { out.writeString("x-request-id: \(requestID)\r\n") }
        if close { out.writeStaticString("connection: close\r\n") }
        out.writeStaticString("\r\n")
        out.writeString(body)
        context.write(wrapOutboundOut(out), promise: nil)
    }

    /// Ends the connection once what was written has gone: the output is closed first and
    /// what the client still sends is read and dropped for a moment (a lingering close, as
    /// nginx does), so that a client still sending is not reset before it read the response.
    private func closeAfterFlush(_ context: ChannelHandlerContext) {
        machine.close()
        inbound = nil
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).assumeIsolated().whenComplete { _ in
            context.close(mode: .output).assumeIsolated().whenComplete { result in
                guard case .success = result else {
                    context.close(promise: nil)
                    return
                }
                context.eventLoop.assumeIsolated().scheduleTask(in: Self.lingerTime) { context.close(promise: nil) }
            }
        }
    }

    /// How long a closing connection still reads what the client sends.
    private static let lingerTime = TimeAmount.seconds(2)

    // MARK: - Connection events

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let exchange, let upstream = exchange.upstream?.channel, exchange.upstreamPaused {
            exchange.upstreamPaused = false
            upstream.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ProxyServer.DrainEvent {
            // The next response on this connection is its last (`Connection: close`). An idle
            // connection is not closed now: the client may have sent a request on it that is
            // still in the socket buffer, and closing under it loses that request (the
            // keep-alive race; a POST may not be resent). It is answered, and the connection
            // closes after; the drain closes what stays idle.
            machine.drain()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if machine.clientClosed(), let exchange {
            // The client left mid-exchange: the upstream connection is in an unknown state.
            endExchange(exchange, upstream: .abandon)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("client connection error: \(error)")
        context.close(promise: nil)
    }
}
