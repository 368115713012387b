import NIOCore

/// The upstream end of a proxied exchange: reads the response's head and frames its body
/// (`MessageHead`, `BodyFraming`), passes both to the `ProxyHandler` that owns the exchange
/// as bytes, and tells the pool when an idle connection closes.
final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let environment: Environment
    private let pool: UpstreamPool
    /// The exchange using this connection; nil while the connection is idle in the pool.
    private(set) var exchange: ProxyHandler?
    /// The upstream connection, from the moment this handler is in its pipeline.
    private(set) var channel: (any Channel)?
    /// Response bytes not yet handled (a head still arriving).
    private var inbound: ByteBuffer?
    private var scanned = 0
    /// The response body's framing; nil until the final head arrived.
    private var body: BodyFraming?
    private var toHEAD = false
    /// The upstream keeps the connection open after this response.
    private var keepAlive = true
    /// The connection failed (reset, read error): its close is not a body's end.
    private var failed = false

    init(environment: Environment, pool: UpstreamPool) {
        self.environment = environment
        self.pool = pool
    }

    func handlerAdded(context: ChannelHandlerContext) { channel = context.channel }

    /// Breaks the handler ↔ channel cycle once the connection is torn down.
    func handlerRemoved(context: ChannelHandlerContext) { channel = nil }

    /// A request is about to be written on this connection for `exchange`.
    func begin(_ exchange: ProxyHandler, toHEAD: Bool) {
        self.exchange = exchange
        self.toHEAD = toHEAD
        inbound = nil
        scanned = 0
        body = nil
        keepAlive = true
    }

    /// The client left mid-exchange: the connection is in an unknown state.
    func abandon() {
        exchange = nil
        channel?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard exchange != nil else {
            // Bytes on an idle connection: it is not clean any more.
            context.close(promise: nil)
            return
        }
        if var waiting = inbound {
            inbound = nil
            waiting.writeImmutableBuffer(buffer)
            process(waiting, context: context)
        } else {
            process(buffer, context: context)
        }
    }

    private func process(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        var buffer = bytes
        while buffer.readableBytes > 0, let exchange {
            if var framing = body {
                let used: Int
                do {
                    used = try buffer.withUnsafeReadableBytes { try framing.consume($0) }
                } catch {
                    fail(exchange, "sent a malformed chunked body (\(error))", context: context)
                    return
                }
                body = framing
                exchange.upstreamBody(buffer.readSlice(length: used)!)
                if framing.isComplete {
                    finish(exchange, leftover: buffer.readableBytes, context: context)
                    return
                }
            } else {
                let head: MessageHead
                do {
                    guard let taken = try MessageHead.take(from: &buffer, kind: .response, scanned: &scanned) else {
                        inbound = buffer
                        return
                    }
                    head = taken
                } catch {
                    fail(exchange, "sent a malformed response (\(error.reason))", context: context)
                    return
                }
                if head.status < 200 {
                    // The router strips Upgrade, so a 101 is a protocol error here.
                    guard head.status != 101 else {
                        fail(exchange, "switched protocols unasked", context: context)
                        return
                    }
                    exchange.upstreamInterim(head)
                    continue
                }
                let framing = BodyFraming.response(head, toHEAD: toHEAD)
                body = framing
                keepAlive = head.keepAlive && !framing.endsAtClose
                exchange.upstreamHead(head, endsAtClose: framing.endsAtClose)
                if framing.isComplete {
                    finish(exchange, leftover: buffer.readableBytes, context: context)
                    return
                }
            }
        }
    }

    /// The response ended. The connection is reused only if nothing followed the response.
    private func finish(_ exchange: ProxyHandler, leftover: Int, context: ChannelHandlerContext) {
        let reusable = keepAlive && leftover == 0
        self.exchange = nil
        inbound = nil
        body = nil
        // Last: the proxy may hand this connection to its next request at once.
        exchange.upstreamEnd(reusable: reusable)
    }

    private func fail(_ exchange: ProxyHandler, _ reason: String, context: ChannelHandlerContext) {
        self.exchange = nil
        failed = true
        context.close(promise: nil)
        exchange.upstreamFailed(reason, code: "upstream_malformed")
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { exchange?.upstreamWritable() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let exchange {
            self.exchange = nil
            if !failed, body?.endsAtClose == true {
                // A body delimited by the close has ended.
                exchange.upstreamEnd(reusable: false)
            } else {
                exchange.upstreamFailed("closed the connection before responding", code: "upstream_closed")
            }
        } else {
            pool.remove(self)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failed = true
        context.close(promise: nil)
    }
}
