import NIOCore

/// Byte-level faults on a response's way out, in the shape of Toxiproxy's toxics, and the
/// idle close of its connection afterwards. They act on the wire, below the relay API,
/// so they apply alike to whole bodies, error bodies and streams.
package struct WireShaping: Sendable, Equatable {
    /// Deliver the body in pieces of this many bytes (slicer).
    package var sliceBytes: Int?
    /// The pause after each slice.
    package var sliceDelayMs: Double = 0
    /// Pace the body at this rate (bandwidth).
    package var bytesPerSecond: Int?
    /// Close the connection once this many body bytes are out (limit-data).
    package var limitBytes: Int?
    /// Close a kept-alive connection once idle this long after the answer (idle-close).
    package var idleCloseMs: Double?

    package init() {}

    /// Whether the body goes out as it is, at once.
    package var shapesBody: Bool { sliceBytes != nil || bytesPerSecond != nil || limitBytes != nil }
}

/// The body bytes of one shaped response not yet written, and when the next piece may go:
/// the connection handler asks it for the next step each time it can write.
final class WireShaper {
    /// What the handler does next.
    enum Step {
        /// Write this piece now; with `cutAfter`, close the connection once it is out.
        case write(ByteBuffer, cutAfter: Bool)
        /// Come back at this time.
        case wait(NIODeadline)
        /// The limit is reached with bytes still to send: close the connection.
        case cut
        /// Nothing pending.
        case drained
    }

    /// How the body ends once every pending byte is out.
    enum Finish {
        case end
        case cut
    }

    let shaping: WireShaping
    private var pending: ByteBuffer?
    /// Body bytes written so far.
    private(set) var sent = 0
    private var nextDue: NIODeadline = .uptimeNanoseconds(0)
    /// Set once the body has been handed over whole.
    var finish: Finish?
    /// The wake-up asked of the event loop, while waiting for a piece's time.
    var timer: Scheduled<Void>?

    init(_ shaping: WireShaping) {
        self.shaping = shaping
    }

    var hasPending: Bool { (pending?.readableBytes ?? 0) > 0 }

    func enqueue(_ buffer: ByteBuffer) {
        guard buffer.readableBytes > 0 else { return }
        if pending == nil {
            pending = buffer
        } else {
            var more = buffer
            pending!.writeBuffer(&more)
        }
    }

    func next(now: NIODeadline) -> Step {
        let left = pending?.readableBytes ?? 0
        let limit = shaping.limitBytes ?? .max
        if sent >= limit, left > 0 || finish == nil { return .cut }
        guard left > 0 else { return .drained }
        if now < nextDue { return .wait(nextDue) }
        // Bandwidth alone goes out in pieces of about 10 ms of its rate.
        var size = shaping.sliceBytes ?? shaping.bytesPerSecond.map { max(1, $0 / 100) } ?? left
        size = min(size, left, limit - sent)
        let piece = pending!.readSlice(length: size)!
        sent += size
        var pauseNs = shaping.sliceBytes == nil ? 0 : Int64(shaping.sliceDelayMs * 1_000_000)
        if let rate = shaping.bytesPerSecond { pauseNs = max(pauseNs, Int64(size) * 1_000_000_000 / Int64(rate)) }
        // No credit for time spent waiting on the client: the pace holds from now.
        nextDue = max(nextDue, now) + .nanoseconds(pauseNs)
        let cutAfter = sent >= limit && (pending!.readableBytes > 0 || finish == nil)
        return .write(piece, cutAfter: cutAfter)
    }
}
