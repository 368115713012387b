/// Where an HTTP/1.x message body ends (RFC 9112 §6), found without decoding it: the proxy
/// relays body bytes exactly as they came, chunk framing included, and only needs to know
/// which bytes still belong to this message.
struct BodyFraming {
    private enum State: Equatable {
        /// `remaining` bytes of a Content-Length body.
        case length(remaining: Int)
        /// The body ends when the sender closes the connection (responses only).
        case untilClose
        /// Inside the hex size of a chunk.
        case chunkSize(value: Int, digits: Int)
        /// After the size: chunk extensions, up to the line end.
        case chunkExtension(value: Int)
        /// CR seen after the size line; LF expected.
        case chunkSizeLF(value: Int)
        case chunkData(remaining: Int)
        /// After a chunk's data: CRLF expected.
        case chunkDataCR
        case chunkDataLF
        /// After the last chunk: trailer fields, then an empty line.
        case trailerLineStart
        case trailerLine
        case trailerEndLF
        case done
    }

    private var state: State
    /// Bytes of trailer fields seen, bounded like a head.
    private var trailerBytes = 0

    /// A body that is not there (a GET without length, a 204, the answer to a HEAD).
    static let empty = BodyFraming(state: .done)
    static func length(_ count: Int) -> BodyFraming { BodyFraming(state: count == 0 ? .done : .length(remaining: count)) }
    static let chunked = BodyFraming(state: .chunkSize(value: 0, digits: 0))
    static let untilClose = BodyFraming(state: .untilClose)

    private init(state: State) { self.state = state }

    /// The framing a request's head gives its body (RFC 9112 §6.3: no length means no body).
    static func request(_ head: MessageHead) throws(MessageHead.Malformed) -> BodyFraming {
        switch head.transferCoding {
        case .chunked: return .chunked
        case .other: throw MessageHead.Malformed(status: 501, reason: "a request Transfer-Encoding other than chunked is not supported")
        case .none: return .length(head.contentLength ?? 0)
        }
    }

    /// The framing of a response to a request that was (or was not) a HEAD.
    static func response(_ head: MessageHead, toHEAD: Bool) -> BodyFraming {
        if toHEAD || head.status < 200 || head.status == 204 || head.status == 304 { return .empty }
        switch head.transferCoding {
        case .chunked: return .chunked
        case .other: return .untilClose
        case .none: return head.contentLength.map { .length($0) } ?? .untilClose
        }
    }

    /// Whether the body has ended.
    var isComplete: Bool { state == .done }

    /// Whether only the sender's close ends the body.
    var endsAtClose: Bool { state == .untilClose }

    /// Why a chunked body could not be followed.
    struct Malformed: Error, Equatable, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    /// Consumes the front of `bytes` that belongs to this body; returns how many bytes that
    /// is. Whatever follows the body's end is left for the next message.
    mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(Malformed) -> Int {
        var index = 0
        while index < bytes.count {
            switch state {
            case .done:
                return index
            case .untilClose:
                return bytes.count
            case .length(let remaining):
                let take = min(remaining, bytes.count - index)
                index += take
                state = take == remaining ? .done : .length(remaining: remaining - take)
            case .chunkData(let remaining):
                let take = min(remaining, bytes.count - index)
                index += take
                state = take == remaining ? .chunkDataCR : .chunkData(remaining: remaining - take)
            default:
                try step(bytes[index])
                index += 1
            }
        }
        return index
    }

    /// One byte of chunk framing.
    private mutating func step(_ byte: UInt8) throws(Malformed) {
        switch state {
        case .chunkSize(let value, let digits):
            if let digit = Self.hexValue(byte) {
                guard digits < 15 else { throw Malformed(reason: "a chunk size is too long") }
                state = .chunkSize(value: value << 4 | digit, digits: digits + 1)
            } else if digits == 0 {
                throw Malformed(reason: "a chunk size is not hexadecimal")
            } else if byte == 0x3B || byte == 0x20 || byte == 0x09 {
                state = .chunkExtension(value: value)
            } else if byte == 0x0D {
                state = .chunkSizeLF(value: value)
            } else if byte == 0x0A {
                sizeLineEnded(value)
            } else {
                throw Malformed(reason: "a chunk size is not hexadecimal")
            }
        case .chunkExtension(let value):
            if byte == 0x0D {
                state = .chunkSizeLF(value: value)
            } else if byte == 0x0A {
                sizeLineEnded(value)
            }
        case .chunkSizeLF(let value):
            guard byte == 0x0A else { throw Malformed(reason: "a chunk size line does not end with CRLF") }
            sizeLineEnded(value)
        case .chunkDataCR:
            if byte == 0x0D {
                state = .chunkDataLF
            } else if byte == 0x0A {
                state = .chunkSize(value: 0, digits: 0)
            } else {
                throw Malformed(reason: "a chunk's data is longer than its size")
            }
        case .chunkDataLF:
            guard byte == 0x0A else { throw Malformed(reason: "a chunk's data does not end with CRLF") }
            state = .chunkSize(value: 0, digits: 0)
        case .trailerLineStart:
            if byte == 0x0D {
                state = .trailerEndLF
            } else if byte == 0x0A {
                state = .done
            } else {
                state = .trailerLine
                try countTrailer()
            }
        case .trailerLine:
            if byte == 0x0A { state = .trailerLineStart }
            try countTrailer()
        case .trailerEndLF:
            guard byte == 0x0A else { throw Malformed(reason: "the trailer section does not end with CRLF") }
            state = .done
        case .length, .untilClose, .chunkData, .done:
            preconditionFailure("bulk states are consumed by consume(_:)")
        }
    }

    private mutating func sizeLineEnded(_ value: Int) {
        state = value == 0 ? .trailerLineStart : .chunkData(remaining: value)
    }

    private mutating func countTrailer() throws(Malformed) {
        trailerBytes += 1
        guard trailerBytes <= MessageHead.maxSize else { throw Malformed(reason: "the trailer section is longer than \(MessageHead.maxSize) bytes") }
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }
}
