import NIOConcurrencyHelpers
import NIOCore

/// What a listener could not accept (`EMFILE`, `ENFILE`, `ENOBUFS`, …): a connection the
/// mock never accepted looks to the router like an upstream that is down, so when the
/// harness's own server fails to accept, the run is the harness's failure, never the
/// router's, and it says so.
package final class AcceptFailures: Sendable {
    private let state = NIOLockedValueBox<(count: Int, last: String?)>((0, nil))

    package init() {}

    func record(_ error: any Error) {
        state.withLockedValue {
            $0.count += 1
            $0.last = "\(error)"
        }
    }

    /// Accepts that failed so far.
    package var count: Int { state.withLockedValue { $0.count } }
    /// The last failure's error.
    package var last: String? { state.withLockedValue { $0.last } }

    /// Counts the errors a server channel's accepts raise (after NIO's backoff handler).
    final class Counter: ChannelInboundHandler, Sendable {
        typealias InboundIn = any Channel
        let failures: AcceptFailures

        init(_ failures: AcceptFailures) { self.failures = failures }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            failures.record(error)
            context.fireErrorCaught(error)
        }
    }
}
