import Cutover
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Kept-alive upstream connections reused without a look at whether the upstream has
/// closed one meanwhile, and no second try when it has: the keep-alive race lost, as a
/// router whose pool ignores the upstream's FIN loses it (the known-bad router of the
/// `keepalive-race` suite). Whole answers only (no streams).
final class NaiveUpstreamPool: Sendable {
    /// An upstream's answer, or why there was none.
    enum Answer: Sendable {
        case response(HTTPResponseHead, ByteBuffer)
        case failed(String)
    }

    private struct Connection: Sendable {
        let channel: any Channel
        let exchange: NIOLoopBound<Exchange>
    }

    private let idle = Mutex<[String: [Connection]]>([:])
    private let group: any EventLoopGroup

    init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
    }

    /// Sends one request to `host:port` on a pooled connection (whatever state it is in) or
    /// a new one, and returns the upstream's whole answer.
    func send(host: String, port: Int, head: HTTPRequestHead, body: ByteBuffer?) async -> Answer {
        let key = "\(host):\(port)"
        let pooled = idle.withLock { $0[key]?.popLast() }
        let connection: Connection
        if let pooled {
            connection = pooled
        } else {
            do {
                connection = try await connect(host: host, port: port)
            } catch {
                return .failed("connect: \(error)")
            }
        }
        let answer: Answer
        do {
            answer = try await connection.channel.eventLoop.flatSubmit { () -> EventLoopFuture<Answer> in
                let promise = connection.channel.eventLoop.makePromise(of: Answer.self)
                connection.exchange.value.waiting = promise
                let channel = connection.channel
                channel.write(HTTPClientRequestPart.head(head), promise: nil)
                if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
                channel.writeAndFlush(HTTPClientRequestPart.end(nil)).whenFailure { error in
                    connection.exchange.value.fail("the connection was closed: \(error)")
                }
                return promise.futureResult
            }.get()
        } catch {
            answer = .failed("\(error)")
        }
        if case .response = answer {
            idle.withLock { $0[key, default: []].append(connection) }
        } else {
            connection.channel.close(promise: nil)
        }
        return answer
    }

    private func connect(host: String, port: Int) async throws -> Connection {
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(Exchange())
                }
            }
            .connect(host: host, port: port).get()
        let exchange = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: Exchange.self), eventLoop: channel.eventLoop)
        }.get()
        return Connection(channel: channel, exchange: exchange)
    }

    /// Collects one answer at a time on its connection.
    final class Exchange: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        var waiting: EventLoopPromise<Answer>?
        private var head: HTTPResponseHead?
        private var body = ByteBuffer()

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body.clear()
            case .body(var part):
                body.writeBuffer(&part)
            case .end:
                if let head { waiting?.succeed(.response(head, body)) }
                waiting = nil
            }
        }

        func fail(_ reason: String) {
            waiting?.succeed(.failed(reason))
            waiting = nil
        }

        func channelInactive(context: ChannelHandlerContext) {
            fail("the upstream closed the connection before answering")
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            fail("\(error)")
            context.close(promise: nil)
        }
    }
}
