import NIOCore
import NIOHTTP1

/// The upstream end of a proxied exchange: passes response parts to the `ProxyHandler`
/// that owns the exchange, and tells the pool when an idle connection closes.
final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let environment: Environment
    private let pool: UpstreamPool
    /// The exchange using this connection; nil while the connection is idle in the pool.
    var exchange: ProxyHandler?
    /// The upstream connection, from the moment this handler is in its pipeline.
    private(set) var channel: (any Channel)?

    init(environment: Environment, pool: UpstreamPool) {
        self.environment = environment
        self.pool = pool
    }

    func handlerAdded(context: ChannelHandlerContext) { channel = context.channel }

    /// Breaks the handler ↔ channel cycle once the connection is torn down.
    func handlerRemoved(context: ChannelHandlerContext) { channel = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let exchange else { return }
        switch unwrapInboundIn(data) {
        case .head(let head): exchange.upstreamHead(head)
        case .body(let buffer): exchange.upstreamBody(buffer)
        case .end(let trailers): exchange.upstreamEnd(trailers)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.upstreamReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let exchange {
            self.exchange = nil
            exchange.upstreamClosed()
        } else {
            pool.remove(self)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
