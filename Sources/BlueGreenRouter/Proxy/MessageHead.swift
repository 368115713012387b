import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One HTTP/1.x head (RFC 9112 §2–§5), parsed where it lies in the bytes that came off the
/// wire: the proxy reads the few fields it routes and frames by, and relays every other
/// field line as bytes, never as strings. (NIOHTTP1's codecs built `HTTPHeaders` of strings
/// on both sides of both hops: a third of the router's CPU per request, `bench/routers.sh`.)
struct MessageHead {
    /// Whether the head starts a request (from a client) or a response (from an upstream).
    enum Kind { case request, response }

    /// What a field's name makes it to the proxy.
    enum Role: Equatable {
        case other
        case contentLength
        case transferEncoding
        case connection
        /// Belongs to one hop only (RFC 9110 §7.6.1): never relayed.
        case hopByHop
        case host
        case environment
        case requestID
    }

    /// One field line: byte offsets into `bytes`, the value without surrounding whitespace.
    struct Field {
        var name: Range<Int>
        var value: Range<Int>
        var role: Role
        /// Named by the `Connection` field, so hop-by-hop too.
        var connectionNamed = false
    }

    /// How the message's body is delimited.
    enum TransferCoding: Equatable { case none, chunked, other }

    /// The head's bytes, from the start line to the blank line.
    let bytes: ByteBuffer
    /// The start line, without its line end.
    var startLine: Range<Int> = 0..<0
    var fields: [Field] = []
    /// The `x` of HTTP/1.x.
    var minorVersion = 1
    /// Requests: whether the method is HEAD (its response has no body).
    var isHEAD = false
    /// Responses: the status code.
    var status = 0
    var contentLength: Int?
    var transferCoding = TransferCoding.none
    /// `Connection: close` and `Connection: keep-alive` were given.
    var connectionClose = false
    var connectionKeepAlive = false

    /// Whether the sender keeps the connection open after this message (RFC 9112 §9.3).
    var keepAlive: Bool { minorVersion >= 1 ? !connectionClose : connectionKeepAlive && !connectionClose }

    /// Heads longer than this are refused (431 from a client, 502 from an upstream).
    static let maxSize = 64 * 1024

    /// Why a head could not be used; `status` is what a client is told.
    struct Malformed: Error, Equatable {
        var status: Int
        var reason: String
    }

    /// Takes one complete head off the front of `buffer`, or returns nil when its end has not
    /// arrived yet. `scanned` remembers how far earlier calls looked, so a head that arrives in
    /// pieces is scanned once. Leading empty lines before a request are skipped (RFC 9112 §2.2).
    static func take(from buffer: inout ByteBuffer, kind: Kind, scanned: inout Int) throws(Malformed) -> MessageHead? {
        let end: Int? = buffer.withUnsafeReadableBytes { raw in
            var index = max(0, scanned - 3)
            while let lf = lineFeed(raw, from: index) {
                // LF LF or LF CR LF ends the head.
                if lf + 1 < raw.count, raw[lf + 1] == 0x0A { return lf + 2 }
                if lf + 2 < raw.count, raw[lf + 1] == 0x0D, raw[lf + 2] == 0x0A { return lf + 3 }
                index = lf + 1
            }
            return nil
        }
        guard let end else {
            scanned = buffer.readableBytes
            if buffer.readableBytes > maxSize { throw tooLarge(kind) }
            return nil
        }
        scanned = 0
        if end > maxSize { throw tooLarge(kind) }
        var head = MessageHead(bytes: buffer.readSlice(length: end)!)
        do {
            try head.parse(kind)
        } catch let error as Malformed {
            throw error
        } catch {
            throw Malformed(status: kind == .request ? 400 : 502, reason: "\(error)")
        }
        return head
    }

    /// The offset of the next LF at or after `start` (memchr: heads are scanned whole).
    private static func lineFeed(_ raw: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < raw.count, let base = raw.baseAddress, let found = memchr(base + start, 0x0A, raw.count - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    private static func tooLarge(_ kind: Kind) -> Malformed {
        Malformed(status: kind == .request ? 431 : 502, reason: "the head is longer than \(maxSize) bytes")
    }

    private init(bytes: ByteBuffer) { self.bytes = bytes }

    /// Splits lines, checks the start line and every field, and reads the framing fields.
    private mutating func parse(_ kind: Kind) throws {
        let bad = kind == .request ? 400 : 502
        let bytes = self.bytes
        // One allocation for the usual head (growing from empty would take four).
        fields.reserveCapacity(16)
        try bytes.withUnsafeReadableBytes { raw in
            var start = 0
            var sawStartLine = false
            var ended = false
            while let index = Self.lineFeed(raw, from: start) {
                let line = start..<(index > start && raw[index - 1] == 0x0D ? index - 1 : index)
                start = index + 1
                if !sawStartLine {
                    if line.isEmpty { continue }
                    startLine = line
                    switch kind {
                    case .request: try parseRequestLine(raw, line)
                    case .response: try parseStatusLine(raw, line)
                    }
                    sawStartLine = true
                } else if line.isEmpty {
                    ended = true
                    break
                } else {
                    fields.append(try Self.field(raw, line, bad: bad))
                }
            }
            guard sawStartLine, ended else { throw Malformed(status: bad, reason: "the head has no start line") }
            try readFraming(raw, bad: bad)
        }
    }

    /// `method SP request-target SP HTTP/1.x`.
    private mutating func parseRequestLine(_ raw: UnsafeRawBufferPointer, _ line: Range<Int>) throws {
        guard let firstSpace = raw[line].firstIndex(of: 0x20), firstSpace > line.lowerBound,
            let lastSpace = raw[line].lastIndex(of: 0x20), lastSpace > firstSpace + 1
        else { throw Malformed(status: 400, reason: "the request line is not 'method target HTTP/1.1'") }
        guard raw[line.lowerBound..<firstSpace].allSatisfy(Self.isTokenByte) else {
            throw Malformed(status: 400, reason: "the request method is not a token")
        }
        guard raw[(firstSpace + 1)..<lastSpace].allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw Malformed(status: 400, reason: "the request target has a space or control character")
        }
        minorVersion = try Self.version(raw, (lastSpace + 1)..<line.upperBound, bad: 400)
        isHEAD = Self.equal(raw, line.lowerBound..<firstSpace, "HEAD", ignoringCase: false)
    }

    /// `HTTP/1.x SP status [SP reason]`.
    private mutating func parseStatusLine(_ raw: UnsafeRawBufferPointer, _ line: Range<Int>) throws {
        guard line.count >= 12, raw[line.lowerBound + 8] == 0x20 else {
            throw Malformed(status: 502, reason: "the upstream's status line is not 'HTTP/1.1 200 OK'")
        }
        minorVersion = try Self.version(raw, line.lowerBound..<(line.lowerBound + 8), bad: 502)
        var code = 0
        for index in (line.lowerBound + 9)..<(line.lowerBound + 12) {
            let digit = raw[index] &- 0x30
            guard digit < 10 else { throw Malformed(status: 502, reason: "the upstream's status code is not three digits") }
            code = code * 10 + Int(digit)
        }
        guard code >= 100, line.count == 12 || raw[line.lowerBound + 12] == 0x20 else {
            throw Malformed(status: 502, reason: "the upstream's status code is not three digits")
        }
        status = code
    }

    private static func version(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, bad: Int) throws -> Int {
        guard range.count == 8, equal(raw, range.lowerBound..<(range.lowerBound + 7), "HTTP/1.", ignoringCase: false) else {
            throw Malformed(status: bad, reason: "the protocol is not HTTP/1.x")
        }
        let minor = raw[range.lowerBound + 7]
        guard minor == 0x30 || minor == 0x31 else {
            throw Malformed(status: bad == 400 ? 505 : bad, reason: "HTTP/1.\(Character(UnicodeScalar(minor))) is not supported")
        }
        return Int(minor - 0x30)
    }

    /// `name ":" OWS value OWS`; no space before the colon, no line folding (RFC 9112 §5).
    private static func field(_ raw: UnsafeRawBufferPointer, _ line: Range<Int>, bad: Int) throws -> Field {
        var colon = line.lowerBound
        while colon < line.upperBound, isTokenByte(raw[colon]) { colon += 1 }
        guard colon < line.upperBound, raw[colon] == 0x3A else {
            throw Malformed(
                status: bad,
                reason: raw[line].contains(0x3A) ? "a header name is not a token (a space before ':' or line folding)" : "a header line has no 'name:'")
        }
        guard colon > line.lowerBound else { throw Malformed(status: bad, reason: "a header line has no 'name:'") }
        var start = colon + 1
        var end = line.upperBound
        while start < end, raw[start] == 0x20 || raw[start] == 0x09 { start += 1 }
        while end > start, raw[end - 1] == 0x20 || raw[end - 1] == 0x09 { end -= 1 }
        var index = start
        while index < end {
            // Visible ASCII, space, tab and obs-text; no other control bytes.
            let byte = raw[index]
            guard byte >= 0x20 && byte != 0x7F || byte == 0x09 else { throw Malformed(status: bad, reason: "a header value has a control character") }
            index += 1
        }
        let name = line.lowerBound..<colon
        return Field(name: name, value: start..<end, role: role(raw, name))
    }

    private static func role(_ raw: UnsafeRawBufferPointer, _ name: Range<Int>) -> Role {
        switch name.count {
        case 2: equal(raw, name, "te") ? .hopByHop : .other
        case 4: equal(raw, name, "host") ? .host : .other
        case 7: equal(raw, name, "upgrade") || equal(raw, name, "trailer") ? .hopByHop : .other
        case 10: equal(raw, name, "connection") ? .connection : equal(raw, name, "keep-alive") ? .hopByHop : .other
        case 12: equal(raw, name, "x-request-id") ? .requestID : .other
        case 13: equal(raw, name, "x-environment") ? .environment : .other
        case 14: equal(raw, name, "content-length") ? .contentLength : .other
        case 16: equal(raw, name, "proxy-connection") ? .hopByHop : .other
        case 17: equal(raw, name, "transfer-encoding") ? .transferEncoding : .other
        case 18: equal(raw, name, "proxy-authenticate") ? .hopByHop : .other
        case 19: equal(raw, name, "proxy-authorization") ? .hopByHop : .other
        default: .other
        }
    }

    /// Reads Content-Length, Transfer-Encoding and Connection; refuses what a proxy must not
    /// guess at (RFC 9112 §6.3: both length fields, or lengths that disagree, are smuggling).
    private mutating func readFraming(_ raw: UnsafeRawBufferPointer, bad: Int) throws {
        var named: [Range<Int>] = []
        for field in fields {
            switch field.role {
            case .contentLength:
                // A list of equal values is one value (RFC 9110 §8.6).
                for item in Self.listItems(raw, field.value) {
                    guard !item.isEmpty, item.count <= 15, raw[item].allSatisfy({ $0 &- 0x30 < 10 }) else {
                        throw Malformed(status: bad, reason: "Content-Length is not a number")
                    }
                    let value = raw[item].reduce(0) { $0 * 10 + Int($1 - 0x30) }
                    guard contentLength == nil || contentLength == value else {
                        throw Malformed(status: bad, reason: "Content-Length is given twice with different values")
                    }
                    contentLength = value
                }
            case .transferEncoding:
                for item in Self.listItems(raw, field.value) where !item.isEmpty {
                    guard transferCoding != .chunked else { throw Malformed(status: bad, reason: "Transfer-Encoding has a coding after chunked") }
                    transferCoding = Self.equal(raw, item, "chunked") ? .chunked : .other
                }
            case .connection:
                for item in Self.listItems(raw, field.value) where !item.isEmpty {
                    if Self.equal(raw, item, "close") {
                        connectionClose = true
                    } else if Self.equal(raw, item, "keep-alive") {
                        connectionKeepAlive = true
                    } else {
                        named.append(item)
                    }
                }
            default: break
            }
        }
        if transferCoding != .none, contentLength != nil {
            throw Malformed(status: bad, reason: "both Content-Length and Transfer-Encoding are given")
        }
        for index in fields.indices where !named.isEmpty && fields[index].role == .other {
            let name = fields[index].name
            fields[index].connectionNamed = named.contains { Self.equal(raw, $0, raw[name]) }
        }
    }

    /// The items of a comma-separated field value, each without surrounding whitespace
    /// (a sequence, not an array: the response's Content-Length is read on every request).
    private static func listItems(_ raw: UnsafeRawBufferPointer, _ value: Range<Int>) -> ListItems {
        ListItems(raw: raw, position: value.lowerBound, end: value.upperBound)
    }

    struct ListItems: Sequence, IteratorProtocol {
        let raw: UnsafeRawBufferPointer
        var position: Int
        let end: Int

        mutating func next() -> Range<Int>? {
            guard position <= end else { return nil }
            var upper = position
            while upper < end, raw[upper] != 0x2C { upper += 1 }
            var lower = position
            position = upper + 1
            while lower < upper, raw[lower] == 0x20 || raw[lower] == 0x09 { lower += 1 }
            while upper > lower, raw[upper - 1] == 0x20 || raw[upper - 1] == 0x09 { upper -= 1 }
            return lower..<upper
        }
    }

    // MARK: - Reading fields

    /// The value of the first field called `name` (lower-case ASCII), as bytes of the head.
    func value(of name: [UInt8]) -> ByteBuffer? {
        bytes.withUnsafeReadableBytes { raw in
            fields.first { $0.name.count == name.count && Self.equal(raw, $0.name, name) }
        }.map { bytes.getSlice(at: bytes.readerIndex + $0.value.lowerBound, length: $0.value.count)! }
    }

    /// The first field with `role`, as bytes of the head.
    func value(of role: Role) -> ByteBuffer? {
        fields.first { $0.role == role }.map { bytes.getSlice(at: bytes.readerIndex + $0.value.lowerBound, length: $0.value.count)! }
    }

    /// Whether the field is relayed to the next hop as it is.
    func isRelayed(_ field: Field) -> Bool {
        switch field.role {
        case .other, .contentLength, .transferEncoding, .requestID: !field.connectionNamed
        case .connection, .hopByHop, .host, .environment: false
        }
    }

    // MARK: - Bytes

    /// tchar (RFC 9110 §5.6.2).
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: true
        default: false
        }
    }

    /// Whether the bytes at `range` equal `expected`, ASCII case ignored unless told otherwise
    /// (`expected` lower-case then).
    static func equal(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, _ expected: some Collection<UInt8>, ignoringCase: Bool = true) -> Bool {
        guard range.count == expected.count else { return false }
        var index = range.lowerBound
        for wanted in expected {
            var byte = raw[index]
            if ignoringCase, byte >= 0x41, byte <= 0x5A { byte |= 0x20 }
            var target = wanted
            if ignoringCase, target >= 0x41, target <= 0x5A { target |= 0x20 }
            guard byte == target else { return false }
            index += 1
        }
        return true
    }

    static func equal(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, _ expected: StaticString, ignoringCase: Bool = true) -> Bool {
        expected.withUTF8Buffer { equal(raw, range, $0, ignoringCase: ignoringCase) }
    }
}
