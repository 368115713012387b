import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// `bench/routers.sh`'s floor for SwiftNIO (as `bench/curl-floor.c` is libcurl's): a TCP
/// relay that parses nothing. Each client connection gets its own upstream connection on
/// the same event loop, and bytes are copied both ways, flushed once per read batch. No
/// HTTP router built on SwiftNIO can cost less per request than this, so its CPU per
/// request against HAProxy's bounds what the reference router can reach.
///
/// With `--http`, both sides run NIOHTTP1's codecs (the server pipeline to the client, the
/// client codec to the upstream) and parts are passed through unchanged: the floor of any
/// router built on NIOHTTP1, which is what the reference router is.
/// Usage: nio-floor [--http] UPSTREAM_PORT (prints the listening port, serves until killed)

/// Copies what one side reads to its peer.
final class Relay: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    var peer: (any Channel)?
    private var pending: [ByteBuffer] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let peer { peer.write(buffer, promise: nil) } else { pending.append(buffer) }
    }

    func channelReadComplete(context: ChannelHandlerContext) { peer?.flush() }

    /// The upstream connected: send what the client already said.
    func connect(_ channel: any Channel) {
        peer = channel
        for buffer in pending { channel.write(buffer, promise: nil) }
        pending = []
        channel.flush()
    }

    func channelInactive(context: ChannelHandlerContext) { peer?.close(promise: nil) }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// `--http`: passes the client's request parts to the upstream as they are decoded.
final class RequestRelay: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    var peer: (any Channel)?
    private var pending: [HTTPClientRequestPart] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part: HTTPClientRequestPart =
            switch unwrapInboundIn(data) {
            case .head(let head): .head(head)
            case .body(let buffer): .body(.byteBuffer(buffer))
            case .end(let trailers): .end(trailers)
            }
        if let peer { peer.write(part, promise: nil) } else { pending.append(part) }
    }

    func channelReadComplete(context: ChannelHandlerContext) { peer?.flush() }

    func connect(_ channel: any Channel) {
        peer = channel
        for part in pending { channel.write(part, promise: nil) }
        pending = []
        channel.flush()
    }

    func channelInactive(context: ChannelHandlerContext) { peer?.close(promise: nil) }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// `--http`: passes the upstream's response parts to the client as they are decoded.
final class ResponseRelay: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    let peer: any Channel

    init(peer: any Channel) { self.peer = peer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part: HTTPServerResponsePart =
            switch unwrapInboundIn(data) {
            case .head(let head): .head(head)
            case .body(let buffer): .body(.byteBuffer(buffer))
            case .end(let trailers): .end(trailers)
            }
        peer.write(part, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) { peer.flush() }
    func channelInactive(context: ChannelHandlerContext) { peer.close(promise: nil) }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

var arguments = Array(CommandLine.arguments.dropFirst())
let http = arguments.first == "--http"
if http { arguments.removeFirst() }
guard arguments.count == 1, let upstreamPort = Int(arguments[0]) else {
    print("usage: nio-floor [--http] UPSTREAM_PORT")
    exit(2)
}
@Sendable func byteRelay(_ client: any Channel, upstreamPort: Int) -> EventLoopFuture<Void> {
    let relay = Relay()
    do { try client.pipeline.syncOperations.addHandler(relay) } catch {
        return client.eventLoop.makeFailedFuture(error)
    }
    let toUpstream = NIOLoopBound(relay, eventLoop: client.eventLoop)
    return ClientBootstrap(group: client.eventLoop)
        .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
        .channelInitializer { upstream in
            upstream.eventLoop.makeCompletedFuture {
                let toClient = Relay()
                toClient.peer = client
                try upstream.pipeline.syncOperations.addHandler(toClient)
            }
        }
        .connect(host: "127.0.0.1", port: upstreamPort)
        .map { upstream in toUpstream.value.connect(upstream) }
}

@Sendable func httpRelay(_ client: any Channel, upstreamPort: Int) -> EventLoopFuture<Void> {
    let relay = RequestRelay()
    do {
        try client.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
        try client.pipeline.syncOperations.addHandler(relay)
    } catch {
        return client.eventLoop.makeFailedFuture(error)
    }
    let toUpstream = NIOLoopBound(relay, eventLoop: client.eventLoop)
    return ClientBootstrap(group: client.eventLoop)
        .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
        .channelInitializer { upstream in
            upstream.eventLoop.makeCompletedFuture {
                try upstream.pipeline.syncOperations.addHTTPClientHandlers()
                try upstream.pipeline.syncOperations.addHandler(ResponseRelay(peer: client))
            }
        }
        .connect(host: "127.0.0.1", port: upstreamPort)
        .map { upstream in toUpstream.value.connect(upstream) }
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
let server = try ServerBootstrap(group: group)
    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { client in
        // Initializers run on the channel's loop, so handlers go in through syncOperations;
        // the bound wrappers tell the compiler the relays stay on that loop.
        http ? httpRelay(client, upstreamPort: upstreamPort) : byteRelay(client, upstreamPort: upstreamPort)
    }
    .bind(host: "127.0.0.1", port: 0)
    .wait()
print(server.localAddress!.port!)
fflush(nil)
try server.closeFuture.wait()
