import CCurl
import CurlHTTP
import Foundation
import HTTPServerCore

/// One reusable easy handle and the state of the request it carries. Reached from
/// libcurl's callbacks through `Unmanaged` (WRITEDATA/HEADERDATA) and from a finished
/// multi message through `CURLOPT_PRIVATE`.
final class CurlTransfer {
    let handle: UnsafeMutableRawPointer
    var record = LedgerRecord.notSent(seq: 0, session: 0, intendedUs: 0, endpoint: .models)
    var isStream: Bool { record.endpoint == .chatStream }
    let clock: RunClock
    /// Inside the engine's multi handle (added and not yet removed).
    var inMulti = false

    // Observed while the response arrives.
    var upstreamHeader: String?
    var routerHeader: String?
    var faultHeader: String?
    /// `Retry-After` and `x-ratelimit-*` lines, kept only until the status says whether
    /// they matter (a non-2xx), for FaithfulRelay.
    var relayHeaders: [String: String] = [:]
    /// The status line's code of the current attempt's response (0 before one).
    private var status = 0
    /// Stream events, split as they arrive.
    private var splitter = SSESplitter()
    /// When the previous stream event arrived (for the longest gap).
    private var lastEventUs: UInt32 = 0
    /// The body bytes as they arrive (`relay: verbatim`).
    private var bodyDigest = Digest64()
    /// What the answer says (`relay: semantic`): a stream's events, or the whole body.
    private var semanticAnswer = SemanticAnswer()
    private var semanticBody: [UInt8] = []
    /// Whether answers are judged by content (a re-encoding gateway) or by bytes.
    private let semantic: Bool

    // Every attempt is evidence.
    /// When the current attempt was sent, and on which connection (local port).
    private var attemptSentUs: UInt32 = 0
    private var attemptPort: UInt16 = 0
    /// Request bytes libcurl had counted when the current attempt began.
    private var requestBytesBefore = 0
    /// Response bytes (head and body) the current attempt got.
    private var attemptResponseBytes: UInt32 = 0
    /// How the attempts before the current one ended.
    private(set) var earlierAttempts: [EarlierAttempt] = []

    /// The run's request-id prefix and extra header lines, the same for every request.
    private let runID: String
    private let runIDBytes: [UInt8]
    private let extraHeaders: [String]
    /// The sequence number of the request being carried (its id's number).
    private var seq: UInt64 = 0

    init(clock: RunClock, timeoutMs: Int, connectTimeoutMs: Int, runID: String, extraHeaders: [String], relay: RelayKind) {
        precondition(CurlGlobal.initialized, "curl_global_init failed")
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        self.handle = handle
        self.clock = clock
        self.runID = runID
        self.runIDBytes = Array(runID.utf8)
        self.extraHeaders = extraHeaders
        self.semantic = relay == .semantic
        let context = Unmanaged.passUnretained(self).toOpaque()
        cutover_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        cutover_easy_setopt_long(handle, CURLOPT_TCP_NODELAY, 1)
        // A 2 KiB receive buffer instead of libcurl's 16 KiB, which an open stream keeps
        // touched: 14 KiB of memory per open stream instead of 17 (bench/streams.sh), and a
        // relay response or a stream event still fits in one read.
        cutover_easy_setopt_long(handle, CURLOPT_BUFFERSIZE, 2_048)
        // Straight to the target, even when the environment names a proxy (libcurl would
        // otherwise read http_proxy and friends on every transfer, and obey them).
        cutover_easy_setopt_string(handle, CURLOPT_PROXY, "")
        cutover_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMs)
        cutover_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, min(timeoutMs, connectTimeoutMs))
        cutover_easy_setopt_ptr(handle, CURLOPT_PRIVATE, context)
        cutover_easy_setopt_data_cb(handle, CURLOPT_WRITEFUNCTION, transferWriteBody)
        cutover_easy_setopt_ptr(handle, CURLOPT_WRITEDATA, context)
        cutover_easy_setopt_data_cb(handle, CURLOPT_HEADERFUNCTION, transferWriteHeader)
        cutover_easy_setopt_ptr(handle, CURLOPT_HEADERDATA, context)
        // Counts attempts: libcurl silently resends a request (POST included) when a reused
        // connection dies before the first response byte.
        cutover_easy_setopt_prereq_cb(handle, transferPrerequest)
        cutover_easy_setopt_ptr(handle, CURLOPT_PREREQDATA, context)
        cutover_easy_open_sockets_recording_errors(handle, socketError)
    }

    /// Why libcurl's last socket() for this transfer failed (0: it did not), written by the
    /// C open-socket callback.
    let socketError = UnsafeMutablePointer<Int32>.allocate(capacity: 1)

    /// The harness could not open a socket for the current request: too many descriptors.
    var descriptorsExhausted: Bool { socketError.pointee == EMFILE || socketError.pointee == ENFILE }

    /// This transfer's own request body (every chat body names its request).
    private var ownBody: UnsafeMutableRawPointer?
    private var ownBodyCapacity = 0

    deinit {
        socketError.deallocate()
        free(ownBody)
        for lines in headerLines { curl_slist_free_all(lines?.list) }
        curl_easy_cleanup(handle)
    }

    /// The last template set on the handle; the same one again needs no option calls.
    private var lastTemplate = -1

    /// A request header list built once per transfer and kind of request; only the numbers
    /// of the id and session lines change from one request to the next. Every custom header
    /// costs libcurl work on every transfer, so a GET carries only the identity lines (and
    /// the user's).
    private struct HeaderLines {
        let list: UnsafeMutablePointer<curl_slist>
        let requestID: NumberedLine
        let session: NumberedLine

        init(withBody: Bool, close: Bool, runID: String, extraHeaders: [String]) {
            var list: UnsafeMutablePointer<curl_slist>?
            requestID = NumberedLine.append("X-Request-ID: \(runID)-", to: &list)
            session = NumberedLine.append("X-Session-ID: s", to: &list)
            if withBody { list = curl_slist_append(list, "Content-Type: application/json") }
            if close { list = curl_slist_append(list, "Connection: close") }
            for header in extraHeaders { list = curl_slist_append(list, header) }
            self.list = list!
        }
    }
    /// The header lists by kind of request: with a body or not, `Connection: close` or not.
    private var headerLines: [HeaderLines?] = [nil, nil, nil, nil]

    /// Points the handle at request `seq`. `template`'s buffers and `url` outlive the
    /// transfer (the engine owns them).
    func prepare(template index: Int, _ template: RequestTemplates.Template, url: OpaquePointer?, seq: UInt64, session: UInt32) {
        let withBody = template.bodyHead != nil
        let close = template.client == .close
        let kind = (withBody ? 1 : 0) + (close ? 2 : 0)
        let lines = headerLines[kind] ?? HeaderLines(withBody: withBody, close: close, runID: runID, extraHeaders: extraHeaders)
        headerLines[kind] = lines
        lines.requestID.write(seq)
        lines.session.write(UInt64(session))
        if index != lastTemplate {
            lastTemplate = index
            // A parsed URL handle: libcurl copies it per transfer instead of parsing the text anew.
            if let url {
                cutover_easy_setopt_ptr(handle, CURLOPT_CURLU, UnsafeMutableRawPointer(url))
            } else {
                cutover_easy_setopt_ptr(handle, CURLOPT_URL, UnsafeMutableRawPointer(mutating: template.url))
            }
            cutover_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, lines.list)
            if template.bodyHead != nil {
                cutover_easy_setopt_long(handle, CURLOPT_POST, 1)
            } else {
                cutover_easy_setopt_long(handle, CURLOPT_HTTPGET, 1)
            }
            setClient(template.client)
        }
        self.seq = seq
        socketError.pointee = 0
        earlierAttempts.removeAll()
        (readStartUs, readSoFar, pausedUntilUs) = (0, 0, 0)
        requestBytesBefore = 0
        startResponse()
    }

    /// How the client talks: the HTTP version, whether the connection is kept, how fast the
    /// answer is read. Set with the template, so a handle that changes kinds changes all three.
    private func setClient(_ client: ClientKind) {
        let version: Int
        switch client {
        case .http10: version = Int(CURL_HTTP_VERSION_1_0)
        case .http2: version = Int(CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE)
        default: version = Int(CURL_HTTP_VERSION_1_1)
        }
        cutover_easy_setopt_long(handle, CURLOPT_HTTP_VERSION, version)
        // A connection of its own, closed after it: neither taken from the pool nor left in it.
        cutover_easy_setopt_long(handle, CURLOPT_FRESH_CONNECT, client.reusesConnections ? 0 : 1)
        cutover_easy_setopt_long(handle, CURLOPT_FORBID_REUSE, client.reusesConnections ? 0 : 1)
        if case .slowReader(let rate) = client { readRate = rate } else { readRate = 0 }
        speaksHTTP2 = client == .http2
    }

    /// Whether the request goes as HTTP/2 (an `h2` client).
    private(set) var speaksHTTP2 = false

    /// libcurl before 8.0 fails the second request on a reused HTTP/2 prior-knowledge
    /// connection with "Error in the HTTP2 framing layer" before sending it (curl #10634,
    /// fixed in 8.0.0; Debian 12 has 7.88.1): there, each `h2` request opens its own
    /// connection, so the router still meets HTTP/2 framing, one stream per connection.
    static let reusesPriorKnowledgeConnections = curl_version_info(CURLVERSION_FIRST).pointee.version_num >= 0x08_00_00

    /// Forgets what an attempt's response said: a new request, or libcurl's replay.
    private func startResponse() {
        upstreamHeader = nil
        routerHeader = nil
        faultHeader = nil
        if !relayHeaders.isEmpty { relayHeaders.removeAll() }
        status = 0
        splitter = SSESplitter()
        lastEventUs = 0
        bodyDigest = Digest64()
        if semantic {
            semanticAnswer = SemanticAnswer()
            semanticBody.removeAll(keepingCapacity: true)
        }
        attemptResponseBytes = 0
    }

    /// Where this transfer's own bodies are assembled (its capacity is kept).
    private var scratch: [UInt8] = []
    /// The closed model's client whose request it carries (`ClosedClients` alone reads it).
    var client = 0

    // A slow reader: the answer is taken no faster than `readRate` bytes a second.
    /// Bytes a second this transfer reads at most (0: as fast as they come).
    private(set) var readRate = 0
    /// When the paused transfer may read again (run clock, µs); 0 while it reads.
    var pausedUntilUs: UInt64 = 0
    /// When its first body byte arrived, and the body bytes taken since.
    private var readStartUs: UInt64 = 0
    private var readSoFar = 0

    /// Builds this request's body in the transfer's own buffer (`RequestTemplates.body`): the
    /// template's start, the conversation so far, this turn's prompt, then `max_tokens`.
    /// Returns the digest of its messages.
    func setBody(
        _ requests: RequestTemplates, _ template: RequestTemplates.Template, maxTokens: Int, promptBytes: Int?, earlierTurns: [RequestTemplates.Turn]
    ) -> UInt64 {
        guard template.bodyHead != nil else { return 0 }
        let digest = requests.body(template, into: &scratch, seq: seq, maxTokens: maxTokens, promptBytes: promptBytes, earlierTurns: earlierTurns)
        let size = scratch.count
        if size > ownBodyCapacity {
            free(ownBody)
            ownBodyCapacity = max(size, 2 * ownBodyCapacity)
            ownBody = malloc(ownBodyCapacity)
        }
        guard let ownBody else { return digest }
        scratch.withUnsafeBytes { ownBody.copyMemory(from: $0.baseAddress!, byteCount: size) }
        cutover_easy_setopt_ptr(handle, CURLOPT_POSTFIELDS, ownBody)
        cutover_easy_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(size))
        return digest
    }

    /// The answer as the upstream's ledger digests it (0 when no response came): its body
    /// bytes, or for a `semantic` relay what it says.
    var answerDigest: UInt64 {
        guard status != 0 else { return 0 }
        guard semantic else { return bodyDigest.value }
        return isStream && (200..<300).contains(status) ? semanticAnswer.streamDigest : SemanticAnswer.digest(ofBody: semanticBody)
    }

    fileprivate func onAttempt(localPort: Int32) {
        let now = clock.nowMicros
        var sent = 0
        cutover_easy_getinfo_long(handle, CURLINFO_REQUEST_SIZE, &sent)
        if record.attempts > 0 {
            // libcurl gave the last attempt up (its reused connection died unanswered) and sends again.
            earlierAttempts.append(
                EarlierAttempt(
                    sentUs: attemptSentUs, endedUs: now, localPort: attemptPort, requestBytes: UInt32(clamping: max(0, sent - requestBytesBefore)),
                    responseBytes: attemptResponseBytes))
        }
        requestBytesBefore = sent
        record.attempts &+= 1
        attemptSentUs = now
        attemptPort = UInt16(clamping: localPort)
        // A replay starts its response afresh.
        record.firstByteUs = 0
        record.bytes = 0
        record.chunks = 0
        record.flags &= LedgerRecord.heldBackFlag
        record.firstTokenUs = 0
        record.lastTokenUs = 0
        record.maxGapUs = 0
        record.tokens = 0
        record.contentEvents = 0
        record.usageTokens = 0
        startResponse()
    }

    fileprivate func onHeader(_ line: UnsafeRawBufferPointer) {
        if record.firstByteUs == 0 { record.firstByteUs = clock.nowMicros }
        attemptResponseBytes &+= UInt32(truncatingIfNeeded: line.count)
        if line.starts(with: "HTTP/".utf8) {
            // A new response head (after 1xx): start over.
            upstreamHeader = nil
            routerHeader = nil
            faultHeader = nil
            relayHeaders.removeAll()
            record.flags &= ~(LedgerRecord.stampedFlag | LedgerRecord.echoMatchedFlag | LedgerRecord.echoDifferedFlag)
            status = Self.statusCode(line)
            return
        }
        // Only the headers the ledger needs are decoded: the "x-" ones and Retry-After.
        let first = line.count > 12 ? line[0] | 0x20 : 0
        if line.count > 12, first != UInt8(ascii: "x"), first != UInt8(ascii: "r") { return }
        guard line.count > 12, let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        if colon == 12, Self.isRequestIDName(line) {
            record.flags |= echoes(UnsafeRawBufferPointer(rebasing: line[(colon + 1)...])) ? LedgerRecord.echoMatchedFlag : LedgerRecord.echoDifferedFlag
            return
        }
        let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
        func value() -> String {
            String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        switch name {
        case "x-environment": routerHeader = value()
        case "x-upstream-env":
            record.flags |= LedgerRecord.stampedFlag
            upstreamHeader = value()
        case "x-mock-fault": faultHeader = value()
        case "retry-after": relayHeaders[name] = value()
        default: if name.hasPrefix("x-ratelimit-") { relayHeaders[name] = value() }
        }
    }

    /// Whether a slow reader takes these bytes now; if not, the transfer pauses (libcurl
    /// stops reading its socket, so the router meets back-pressure) until they are due, and
    /// libcurl hands the same bytes over again then.
    fileprivate func takesBody(_ count: Int) -> Bool {
        guard readRate > 0 else { return true }
        let now = UInt64(clock.nowMicros)
        if readStartUs == 0 { readStartUs = now }
        let dueUs = readStartUs + UInt64(readSoFar + count) * 1_000_000 / UInt64(readRate)
        // Within 2 ms of its time: read now rather than pause for nothing.
        guard dueUs > now + 2_000 else {
            readSoFar += count
            return true
        }
        pausedUntilUs = dueUs
        return false
    }

    fileprivate func onBody(_ bytes: UnsafeRawBufferPointer) {
        record.bytes &+= UInt32(truncatingIfNeeded: bytes.count)
        attemptResponseBytes &+= UInt32(truncatingIfNeeded: bytes.count)
        bodyDigest.add(bytes)
        let events = isStream && (200..<300).contains(status)
        if semantic, !events, semanticBody.count < Self.semanticBodyLimit { semanticBody.append(contentsOf: bytes) }
        guard isStream else { return }
        var now: UInt32 = 0
        splitter.feed(bytes) { data, _ in
            if now == 0 { now = clock.nowMicros }
            onEvent(data, at: now)
        }
    }

    /// A whole body kept for a `semantic` reading is at most this long (a chat completion is
    /// far shorter; a longer one reads as unparseable, which matches no upstream content).
    private static let semanticBodyLimit = 4 << 20

    /// One stream event's data.
    private func onEvent(_ data: ArraySlice<UInt8>, at now: UInt32) {
        if lastEventUs != 0, now > lastEventUs { record.maxGapUs = max(record.maxGapUs, now - lastEventUs) }
        lastEventUs = now
        if data.elementsEqual(Self.done) {
            record.flags |= LedgerRecord.doneFlag
            return
        }
        record.chunks &+= 1
        let reading = StreamEventReading(data)
        if reading.words > 0 {
            if record.firstTokenUs == 0 { record.firstTokenUs = now }
            record.lastTokenUs = now
            record.tokens &+= UInt16(clamping: reading.words)
            record.contentEvents &+= 1
        }
        if let usage = reading.completionTokens { record.usageTokens = UInt16(clamping: usage) }
        if semantic { semanticAnswer.event(data) }
    }

    private static let done = Array("[DONE]".utf8)

    /// The status code of a status line (`HTTP/1.1 200 OK`), 0 when it has none.
    private static func statusCode(_ line: UnsafeRawBufferPointer) -> Int {
        guard let space = line.firstIndex(of: UInt8(ascii: " ")), space + 3 < line.count else { return 0 }
        var code = 0
        for index in (space + 1)...(space + 3) {
            let digit = line[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return 0 }
            code = code * 10 + Int(digit)
        }
        return code
    }

    /// Whether a header line's name is `X-Request-ID` (any case).
    private static func isRequestIDName(_ line: UnsafeRawBufferPointer) -> Bool {
        zip(line.prefix(12), "x-request-id".utf8).allSatisfy { $0 | 0x20 == $1 | 0x20 }
    }

    /// Whether an `X-Request-ID` value (with its spaces) is this request's id.
    private func echoes(_ value: UnsafeRawBufferPointer) -> Bool {
        var start = value.startIndex
        var end = value.endIndex
        while start < end, value[start] == UInt8(ascii: " ") || value[start] == UInt8(ascii: "\t") { start += 1 }
        while end > start, value[end - 1] <= UInt8(ascii: " ") { end -= 1 }
        let text = UnsafeRawBufferPointer(rebasing: value[start..<end])
        guard text.count > runIDBytes.count + 1, text.starts(with: runIDBytes), text[runIDBytes.count] == UInt8(ascii: "-") else { return false }
        var number: UInt64 = 0
        for byte in text[(runIDBytes.count + 1)...] {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10, number < UInt64.max / 10 else { return false }
            number = number * 10 + UInt64(digit)
        }
        return number == seq
    }
}

/// A header line in a buffer libcurl owns: a fixed prefix, then a decimal number that is
/// rewritten in place for each request (no strings built per request).
private struct NumberedLine {
    let node: UnsafeMutablePointer<curl_slist>
    let digitsAt: Int

    /// Appends `prefix` and room for any UInt64 to `list`.
    static func append(_ prefix: String, to list: inout UnsafeMutablePointer<curl_slist>?) -> NumberedLine {
        list = curl_slist_append(list, prefix + String(repeating: " ", count: 20))
        var node = list!
        while let next = node.pointee.next { node = next }
        return NumberedLine(node: node, digitsAt: prefix.utf8.count)
    }

    func write(_ number: UInt64) {
        guard let data = node.pointee.data else { return }
        var end = digitsAt + 1
        var rest = number / 10
        while rest > 0 {
            end += 1
            rest /= 10
        }
        data[end] = 0
        var value = number
        for index in (digitsAt..<end).reversed() {
            data[index] = CChar(bitPattern: UInt8(ascii: "0") + UInt8(value % 10))
            value /= 10
        }
    }
}

/// CURLOPT_WRITEFUNCTION: a non-capturing C callback; the transfer arrives as `context`.
private let transferWriteBody: cutover_curl_data_cb = { data, size, count, context in
    let length = size * count
    guard let context, let data else { return length }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    guard transfer.takesBody(length) else { return Int(CURL_WRITEFUNC_PAUSE) }
    transfer.onBody(UnsafeRawBufferPointer(start: data, count: length))
    return length
}

/// CURLOPT_HEADERFUNCTION: one call per header line.
private let transferWriteHeader: cutover_curl_data_cb = { data, size, count, context in
    let length = size * count
    guard let context, let data else { return length }
    Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue().onHeader(UnsafeRawBufferPointer(start: data, count: length))
    return length
}

/// CURLOPT_PREREQFUNCTION: one call per attempt to send the request, on its connection.
private let transferPrerequest: cutover_curl_prereq_cb = { context, _, _, _, localPort in
    if let context { Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue().onAttempt(localPort: localPort) }
    return 0  // CURL_PREREQFUNC_OK
}
