import CCurl
import CurlHTTP
import Foundation

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
    // SSE scanning: the last bytes seen, to find event boundaries and "[DONE]" across chunks.
    private var tail: [UInt8] = []
    /// When the previous stream event arrived (for the longest gap).
    private var lastEventUs: UInt32 = 0

    /// The run's request-id prefix and extra header lines, the same for every request.
    private let runID: String
    private let extraHeaders: [String]

    init(clock: RunClock, timeoutMs: Int, connectTimeoutMs: Int, runID: String, extraHeaders: [String]) {
        precondition(CurlGlobal.initialized, "curl_global_init failed")
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        self.handle = handle
        self.clock = clock
        self.runID = runID
        self.extraHeaders = extraHeaders
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
    }

    /// This transfer's own request body, for templates whose lengths are drawn per request.
    private var ownBody: UnsafeMutableRawPointer?
    private var ownBodyCapacity = 0

    deinit {
        free(ownBody)
        curl_slist_free_all(getHeaders?.list)
        curl_slist_free_all(postHeaders?.list)
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

        init(withBody: Bool, runID: String, extraHeaders: [String]) {
            var list: UnsafeMutablePointer<curl_slist>?
            requestID = NumberedLine.append("X-Request-ID: \(runID)-", to: &list)
            session = NumberedLine.append("X-Session-ID: s", to: &list)
            if withBody { list = curl_slist_append(list, "Content-Type: application/json") }
            for header in extraHeaders { list = curl_slist_append(list, header) }
            self.list = list!
        }
    }
    private var getHeaders: HeaderLines?
    private var postHeaders: HeaderLines?

    /// Points the handle at request `seq`. `template`'s buffers and `url` outlive the
    /// transfer (the engine owns them).
    func prepare(template index: Int, _ template: RequestTemplates.Template, url: OpaquePointer?, seq: UInt64, session: UInt32) {
        let withBody = template.body != nil
        let lines: HeaderLines
        if withBody {
            lines = postHeaders ?? HeaderLines(withBody: true, runID: runID, extraHeaders: extraHeaders)
            postHeaders = lines
        } else {
            lines = getHeaders ?? HeaderLines(withBody: false, runID: runID, extraHeaders: extraHeaders)
            getHeaders = lines
        }
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
            } else if let body = template.body {
                cutover_easy_setopt_long(handle, CURLOPT_POST, 1)
                cutover_easy_setopt_ptr(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: body.baseAddress))
                cutover_easy_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            } else {
                cutover_easy_setopt_long(handle, CURLOPT_HTTPGET, 1)
            }
        }
        upstreamHeader = nil
        routerHeader = nil
        faultHeader = nil
        if !relayHeaders.isEmpty { relayHeaders.removeAll() }
        tail.removeAll(keepingCapacity: true)
        lastEventUs = 0
    }

    /// Where this transfer's own bodies are assembled (its capacity is kept).
    private var scratch: [UInt8] = []
    /// The client of the closed model that sent it (-1 in the open model).
    var client = -1

    /// Builds this request's body in the transfer's own buffer (`RequestTemplates.body`): the
    /// template's start, the conversation so far, this turn's prompt, then `max_tokens`.
    func setBody(_ template: RequestTemplates.Template, maxTokens: Int, promptBytes: Int?, earlierTurns: [(promptBytes: Int?, answerTokens: Int)]) {
        guard template.bodyHead != nil else { return }
        RequestTemplates.body(template, into: &scratch, maxTokens: maxTokens, promptBytes: promptBytes, earlierTurns: earlierTurns)
        let size = scratch.count
        if size > ownBodyCapacity {
            free(ownBody)
            ownBodyCapacity = max(size, 2 * ownBodyCapacity)
            ownBody = malloc(ownBodyCapacity)
        }
        guard let ownBody else { return }
        scratch.withUnsafeBytes { ownBody.copyMemory(from: $0.baseAddress!, byteCount: size) }
        cutover_easy_setopt_ptr(handle, CURLOPT_POSTFIELDS, ownBody)
        cutover_easy_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(size))
    }

    fileprivate func onAttempt() {
        record.attempts &+= 1
        // A replay starts its response afresh.
        record.firstByteUs = 0
        record.bytes = 0
        record.chunks = 0
        record.flags = 0
        record.firstTokenUs = 0
        record.lastTokenUs = 0
        record.maxGapUs = 0
        record.tokens = 0
        record.contentEvents = 0
        record.usageTokens = 0
        lastEventUs = 0
        tail.removeAll(keepingCapacity: true)
    }

    fileprivate func onHeader(_ line: UnsafeRawBufferPointer) {
        if record.firstByteUs == 0 { record.firstByteUs = clock.nowMicros }
        // Only the headers the ledger needs are decoded: the "x-" ones and Retry-After.
        let first = line.count > 12 ? line[0] | 0x20 : 0
        if line.count > 12, first != UInt8(ascii: "x"), first != UInt8(ascii: "r") { return }
        guard line.count > 12, let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            if line.starts(with: "HTTP/".utf8) {  // a new response head (after 1xx): start over
                upstreamHeader = nil
                routerHeader = nil
                faultHeader = nil
                relayHeaders.removeAll()
                record.flags &= ~LedgerRecord.stampedFlag
            }
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

    fileprivate func onBody(_ bytes: UnsafeRawBufferPointer) {
        record.bytes &+= UInt32(truncatingIfNeeded: bytes.count)
        guard isStream else { return }
        // Count SSE events (blank-line terminated) and look for "data: [DONE]", across chunk edges.
        tail.append(contentsOf: bytes)
        var index = 0
        var consumed = 0
        var now: UInt32 = 0
        while index + 1 < tail.count {
            if tail[index] == UInt8(ascii: "\n"), tail[index + 1] == UInt8(ascii: "\n") {
                if now == 0 { now = clock.nowMicros }
                if lastEventUs != 0, now > lastEventUs { record.maxGapUs = max(record.maxGapUs, now - lastEventUs) }
                lastEventUs = now
                let event = tail[consumed..<index]
                if event.count < 64, String(decoding: event, as: UTF8.self).hasSuffix("[DONE]") {
                    record.flags |= LedgerRecord.doneFlag
                } else {
                    record.chunks &+= 1
                    let reading = StreamEventReading(event)
                    if reading.words > 0 {
                        if record.firstTokenUs == 0 { record.firstTokenUs = now }
                        record.lastTokenUs = now
                        record.tokens &+= UInt16(clamping: reading.words)
                        record.contentEvents &+= 1
                    }
                    if let usage = reading.completionTokens { record.usageTokens = UInt16(clamping: usage) }
                }
                consumed = index + 2
                index += 2
            } else {
                index += 1
            }
        }
        tail.removeFirst(consumed)
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
    Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue().onBody(UnsafeRawBufferPointer(start: data, count: length))
    return length
}

/// CURLOPT_HEADERFUNCTION: one call per header line.
private let transferWriteHeader: cutover_curl_data_cb = { data, size, count, context in
    let length = size * count
    guard let context, let data else { return length }
    Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue().onHeader(UnsafeRawBufferPointer(start: data, count: length))
    return length
}

/// CURLOPT_PREREQFUNCTION: one call per attempt to send the request.
private let transferPrerequest: cutover_curl_prereq_cb = { context, _, _, _, _ in
    if let context { Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue().onAttempt() }
    return 0  // CURL_PREREQFUNC_OK
}
