import Foundation
import HTTPServerCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The client end of the proxy, one per client connection. For each request it picks
/// the environment, gets an upstream connection on the same event loop (pooled or new),
/// forwards the request, and streams the response back part by part.
///
/// Failover: a connect failure, before any byte of the request was sent, is retried once
/// on the other environment. Once sent, a request is never retried (no double execution).
///
/// Pipelining: a request that arrives before the previous response ended is queued, and
/// reads are held back only then. (NIO's pipelining handler holds reads back around every
/// request, which costs two `epoll_ctl` calls per request.)
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let proxy: ProxyContext
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var exchange: Exchange?
    /// Close the client connection once the current response is written.
    private var closeWhenIdle = false
    /// Parts of pipelined requests waiting for the current exchange to end.
    private var queued = CircularBuffer<HTTPServerRequestPart>()
    /// A `read()` held back while requests are queued.
    private var readHeld = false

    /// One request in flight on this connection. A class, so that changing its head in
    /// place never copies the headers (a struct copied out of the optional would).
    private final class Exchange {
        var head: HTTPRequestHead
        var environment: Environment
        var requestID: String
        var pendingBody: [ByteBuffer] = []
        var requestEnded = false
        /// The upstream connection's handler; it holds the connection.
        var upstream: UpstreamHandler?
        var responseStarted = false
        var upstreamReusable = true
        var clientKeepAlive: Bool
        var failedOver = false
        /// Upstream reads paused because the client is not keeping up.
        var upstreamPaused = false

        init(head: HTTPRequestHead, environment: Environment, requestID: String, clientKeepAlive: Bool) {
            self.head = head
            self.environment = environment
            self.requestID = requestID
            self.clientKeepAlive = clientKeepAlive
        }
    }

    /// Headers that belong to one hop only (RFC 9110 §7.6.1).
    private static let hopByHop = [
        "connection", "keep-alive", "proxy-connection", "upgrade", "te", "trailer", "proxy-authorization", "proxy-authenticate",
    ]

    /// Whether `name` is a hop-by-hop header, compared without allocating (this runs on every
    /// header of every request and response).
    private static func isHopByHop(_ name: String) -> Bool {
        switch name.utf8.count {
        case 2, 7, 10, 16, 18, 19: hopByHop.contains { equalsIgnoringCase(name, $0) }
        default: false
        }
    }

    /// ASCII case-insensitive equality against a lower-case `expected`.
    private static func equalsIgnoringCase(_ name: String, _ expected: String) -> Bool {
        name.utf8.count == expected.utf8.count
            && zip(name.utf8, expected.utf8).allSatisfy { byte, lower in byte == lower || (byte &+ 32 == lower && lower >= 0x61 && lower <= 0x7A) }
    }

    /// Drops hop-by-hop headers, including any the `Connection` header names. The common
    /// case has none and costs one scan.
    static func removeHopByHop(_ headers: inout HTTPHeaders) {
        guard headers.contains(where: { isHopByHop($0.name) }) else { return }
        var extra: Set<String> = []
        for value in headers[canonicalForm: "connection"] { extra.insert(value.lowercased()) }
        for name in hopByHop { headers.remove(name: name) }
        for name in extra { headers.remove(name: name) }
    }

    init(proxy: ProxyContext, logger: Logger) {
        self.proxy = proxy
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: - Client side

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if !queued.isEmpty || exchange?.requestEnded == true {
            queued.append(part)
        } else {
            handle(part)
        }
    }

    /// Holds back reads while pipelined requests wait, so the queue stays small.
    func read(context: ChannelHandlerContext) {
        if queued.isEmpty {
            context.read()
        } else {
            readHeld = true
        }
    }

    /// The exchange ended: run queued requests, then let reading resume.
    private func exchangeEnded() {
        while exchange == nil || exchange?.requestEnded == false, let part = queued.popFirst() {
            handle(part)
        }
        if queued.isEmpty, readHeld, let context {
            readHeld = false
            context.read()
        }
    }

    private func handle(_ part: HTTPServerRequestPart) {
        switch part {
        case .head(let clientHead):
            guard !closeWhenIdle else { return }
            proxy.state.requestStarted()
            let requestID = clientHead.headers.first(name: "x-request-id") ?? proxy.generateRequestID()
            var head = clientHead
            Self.removeHopByHop(&head.headers)
            head.headers.replaceOrAdd(name: "x-request-id", value: requestID)
            head.version = .http1_1
            let environment = proxy.state.select(sessionKey: clientHead.headers.first(name: proxy.sessionHeader))
            exchange = Exchange(head: head, environment: environment, requestID: requestID, clientKeepAlive: clientHead.isKeepAlive)
            dispatch(to: environment)
        case .body(let buffer):
            guard exchange != nil else { return }
            if let upstream = exchange!.upstream?.channel {
                upstream.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil)
            } else {
                exchange!.pendingBody.append(buffer)
            }
        case .end:
            guard exchange != nil else { return }
            exchange!.requestEnded = true
            exchange!.upstream?.channel?.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
    }

    /// Gets a connection to `environment` and sends the request on it.
    private func dispatch(to environment: Environment) {
        guard let context else { return }
        let pool = proxy.pool(on: context.eventLoop)
        if let upstream = pool.take(environment) {
            attach(upstream, environment)
            return
        }
        let target = proxy.targets[environment]!
        // Made here, on this loop, and kept: attaching it needs no pipeline lookup.
        let upstream = NIOLoopBound(UpstreamHandler(environment: environment, pool: pool), eventLoop: context.eventLoop)
        ClientBootstrap(group: context.eventLoop)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(proxy.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
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
        guard let exchange, exchange.environment == environment, exchange.upstream == nil else { return }
        logger.debug("connect to \(environment.rawValue) failed: \(error)")
        if !exchange.failedOver {
            exchange.failedOver = true
            exchange.environment = environment.other
            proxy.state.countFailover()
            dispatch(to: environment.other)
        } else {
            proxy.state.countUpstreamError()
            respondWithError(
                .badGateway, "No upstream environment could be reached (\(environment.other.rawValue) and \(environment.rawValue) refused the connection).",
                code: "upstream_unreachable")
        }
    }

    private func attach(_ upstream: UpstreamHandler, _ environment: Environment) {
        guard let channel = upstream.channel else { return }
        guard let context, context.channel.isActive, let exchange else {
            // The client left while we connected; the connection is clean, keep it.
            if let context { proxy.pool(on: context.eventLoop).put(upstream) } else { channel.close(promise: nil) }
            return
        }
        upstream.exchange = self
        exchange.upstream = upstream
        exchange.environment = environment
        exchange.head.headers.replaceOrAdd(name: "x-environment", value: environment.rawValue)
        exchange.head.headers.replaceOrAdd(name: "host", value: proxy.targets[environment]!.hostHeader)
        proxy.state.countServed(by: environment)
        channel.write(HTTPClientRequestPart.head(exchange.head), promise: nil)
        for buffer in exchange.pendingBody {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil)
        }
        exchange.pendingBody = []
        if exchange.requestEnded {
            channel.write(HTTPClientRequestPart.end(nil), promise: nil)
        }
        channel.flush()
    }

    // MARK: - Upstream side (called by UpstreamHandler on this loop)

    func upstreamHead(_ upstreamHead: HTTPResponseHead) {
        guard let context, let exchange else { return }
        var head = upstreamHead
        exchange.upstreamReusable = upstreamHead.isKeepAlive
        Self.removeHopByHop(&head.headers)
        head.headers.replaceOrAdd(name: "x-environment", value: exchange.environment.rawValue)
        if !head.headers.contains(name: "x-request-id") { head.headers.add(name: "x-request-id", value: exchange.requestID) }
        if !exchange.clientKeepAlive || proxy.draining || closeWhenIdle {
            head.headers.add(name: "connection", value: "close")
            closeWhenIdle = true
        }
        head.version = .http1_1
        exchange.responseStarted = true
        context.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        guard let context else { return }
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    }

    /// Flush once per upstream read batch; pause the upstream while the client is slow.
    func upstreamReadComplete() {
        guard let context else { return }
        context.flush()
        if !context.channel.isWritable, let exchange, let upstream = exchange.upstream?.channel, !exchange.upstreamPaused {
            exchange.upstreamPaused = true
            upstream.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }
    }

    func upstreamEnd(_ trailers: HTTPHeaders?) {
        guard let context, let exchange, let upstream = exchange.upstream, let channel = upstream.channel else { return }
        self.exchange = nil
        upstream.exchange = nil
        if exchange.upstreamReusable {
            if exchange.upstreamPaused { channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in } }
            proxy.pool(on: context.eventLoop).put(upstream)
        } else {
            channel.close(promise: nil)
        }
        proxy.state.requestEnded()
        if closeWhenIdle {
            context.writeAndFlush(wrapOutboundOut(.end(trailers))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
            exchangeEnded()
        }
    }

    /// The upstream connection closed before the response ended.
    func upstreamClosed() {
        guard let exchange else { return }
        proxy.state.countUpstreamError()
        if exchange.responseStarted {
            // Part of the response is out: the client must see the truncation, not a made-up end.
            self.exchange = nil
            proxy.state.requestEnded()
            context?.close(promise: nil)
        } else {
            respondWithError(.badGateway, "The \(exchange.environment.rawValue) upstream closed the connection before responding.", code: "upstream_closed")
        }
    }

    /// A JSON error in OpenAI's shape, made by the router (no upstream stamp).
    private func respondWithError(_ status: HTTPResponseStatus, _ message: String, code: String) {
        guard let context, let exchange else { return }
        self.exchange = nil
        exchange.upstream?.channel?.close(promise: nil)
        proxy.state.requestEnded()
        let body = #"{"error":{"message":\#(JSON.quoted(message)),"type":"router_error","param":null,"code":"\#(code)"}}"#
        var headers = HTTPHeaders([("content-type", "application/json"), ("content-length", String(body.utf8.count)), ("x-request-id", exchange.requestID)])
        if !exchange.clientKeepAlive || proxy.draining { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        if !exchange.clientKeepAlive || proxy.draining {
            closeWhenIdle = true
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            exchangeEnded()
        }
    }

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
            if exchange == nil { context.close(promise: nil) } else { closeWhenIdle = true }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let exchange {
            // The client left mid-exchange: the upstream connection is in an unknown state.
            self.exchange = nil
            if let upstream = exchange.upstream {
                upstream.exchange = nil
                upstream.channel?.close(promise: nil)
            }
            proxy.state.requestEnded()
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("client connection error: \(error)")
        context.close(promise: nil)
    }
}
