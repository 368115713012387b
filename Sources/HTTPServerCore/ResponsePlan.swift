import NIOCore
import NIOHTTP1

/// What the connection handler should do with a request: the responders decide,
/// the handler carries it out on the event loop. Keeping the decision pure makes
/// every fault testable without a socket.
package enum ResponsePlan: Sendable {
    /// Write a response, possibly after a delay.
    case respond(PlannedResponse)
    /// Accept, then reset the connection (SO_LINGER 0) after `delayMs`.
    case reset(ticket: UInt64?, delayMs: Double)
    /// Never answer; the connection stays open until the client leaves or the fault goes.
    case hang(ticket: UInt64?)
    /// Close the connection without a response.
    case close(ticket: UInt64?)
    /// The plan is not known yet (admin actions that change listeners).
    case deferred(EventLoopFuture<ResponsePlan>)
}

/// A response to write: status, headers, a delay before the headers and a body shape.
package struct PlannedResponse: Sendable {
    package var status: HTTPResponseStatus
    package var headers: HTTPHeaders
    package var delayMs: Double
    package var body: Body
    /// Ledger sequence number to finish when the response ends.
    package var ticket: UInt64?
    /// What the answer says, in the shape both ends of an exchange can compute
    /// (`ExchangeFingerprint`): handed back in `ExchangeEnd` for the ledger.
    package var contentDigest: UInt64?
    /// Byte-level faults on the way out and the idle close after it.
    package var wire = WireShaping()

    package enum Body: Sendable {
        /// The whole body at once, with Content-Length.
        case full(ByteBuffer)
        /// Content-Length promises `promised` bytes; only `buffer` is sent, then the connection closes.
        case truncated(ByteBuffer, promised: Int)
        /// Server-sent events, written one by one with pacing and faults.
        case stream(StreamScript)
    }

    package init(
        status: HTTPResponseStatus, headers: HTTPHeaders, delayMs: Double = 0, body: Body, ticket: UInt64? = nil, contentDigest: UInt64? = nil,
        wire: WireShaping = WireShaping()
    ) {
        self.status = status
        self.headers = headers
        self.delayMs = delayMs
        self.body = body
        self.ticket = ticket
        self.contentDigest = contentDigest
        self.wire = wire
    }
}

/// A stream's events and how to deliver them: pacing and an optional mid-stream fault.
package struct StreamScript: Sendable {
    /// The SSE frames, complete with `data: ` and the blank line.
    package var frames: any StreamFrames
    /// Delay before each frame; nil sends frames as fast as the client reads them.
    package var pace: (any StreamTiming)?
    package var fault: StreamFault?

    package init(frames: any StreamFrames, pace: (any StreamTiming)? = nil, fault: StreamFault? = nil) {
        self.frames = frames
        self.pace = pace
        self.fault = fault
    }

    package enum StreamFault: Sendable, Equatable {
        case cut(afterChunks: Int)
        case stall(afterChunks: Int, stallMs: Double)
        case error(afterChunks: Int, frame: String)
        case noDone
    }

    /// Frames to send, after removing `[DONE]` for `noDone`.
    package var frameCount: Int {
        if case .noDone = fault { return frames.count - 1 }
        return frames.count
    }
}

/// Renders stream frames on demand, so a long stream holds no pre-rendered text.
package protocol StreamFrames: Sendable {
    var count: Int { get }
    func frame(_ index: Int) -> String
    /// Appends frame `index` to `buffer` (a renderer may do it without building a string).
    func write(_ index: Int, into buffer: inout ByteBuffer)
}

extension StreamFrames {
    package func write(_ index: Int, into buffer: inout ByteBuffer) { buffer.writeString(frame(index)) }
}

/// When each stream frame is due.
package protocol StreamTiming: Sendable {
    /// Milliseconds from frame `index - 1` (from the response head for 0) to frame `index`.
    /// Frames are due at absolute times (the head's time plus the sum of the delays), so a
    /// late write never pushes the frames after it back.
    func delayMs(before index: Int) -> Double
}

/// The responder side of a listener.
package protocol HTTPResponder: Sendable {
    /// Decides what to do with one request; called on the connection's event loop.
    func plan(for request: HTTPRequest, on eventLoop: any EventLoop) -> ResponsePlan
    /// Called once for every plan with a ticket, when its response or connection ends.
    func finished(ticket: UInt64, _ end: ExchangeEnd)
    /// Called when a connection is closed for an idle-close fault.
    func closedIdle()
}

extension HTTPResponder {
    package func closedIdle() {}
}

/// How one exchange ended on the server side, as its connection saw it.
package struct ExchangeEnd: Sendable, Equatable {
    /// The status sent, if a head was sent.
    package var status: Int?
    package var outcome: RequestOutcome
    /// Body bytes written.
    package var bytes: Int
    /// Stream events written.
    package var chunks: Int
    /// `Digest64` of the body bytes written, in order.
    package var bodyDigest: UInt64
    /// The planned response's `contentDigest`.
    package var contentDigest: UInt64?
    /// The fault that cut the exchange while it was in flight (an outage that closed the
    /// port), so that what it broke is the upstream's doing, not the router's.
    package var interruptedBy: String?

    package init(
        status: Int?, outcome: RequestOutcome, bytes: Int = 0, chunks: Int = 0, bodyDigest: UInt64 = Digest64().value, contentDigest: UInt64? = nil,
        interruptedBy: String? = nil
    ) {
        self.status = status
        self.outcome = outcome
        self.bytes = bytes
        self.chunks = chunks
        self.bodyDigest = bodyDigest
        self.contentDigest = contentDigest
        self.interruptedBy = interruptedBy
    }
}
