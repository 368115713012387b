import CCurl
import Foundation

/// libcurl's global state is set up once per process, before any handle exists.
package enum CurlGlobal {
    package static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
    }()
}

/// One libcurl easy handle. Reused across requests, so its connection stays alive
/// between them; not thread-safe (one transfer at a time, on one thread).
final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

    init() {
        precondition(CurlGlobal.initialized, "curl_global_init failed")
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        self.handle = handle
    }

    deinit {
        curl_easy_cleanup(handle)
    }

    /// Runs one transfer to completion (blocking) and returns everything observed.
    func perform(_ request: CurlRequest) -> CurlResponse {
        curl_easy_reset(handle)
        let sink = TransferSink()
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }

        var headerList: UnsafeMutablePointer<curl_slist>?
        for header in request.headers {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        // No `Expect: 100-continue` round trip for larger bodies.
        headerList = curl_slist_append(headerList, "Expect:")
        defer { curl_slist_free_all(headerList) }

        cutover_easy_setopt_string(handle, CURLOPT_URL, request.url)
        cutover_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        cutover_easy_setopt_long(handle, CURLOPT_TCP_NODELAY, 1)
        cutover_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, request.timeoutMs)
        cutover_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMs)
        cutover_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        errorBuffer.withUnsafeMutableBufferPointer { buffer in
            buffer[0] = 0
            _ = cutover_easy_setopt_ptr(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
        }
        if let body = request.body {
            cutover_easy_setopt_long(handle, CURLOPT_POST, 1)
            cutover_easy_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            body.withUnsafeBytes { bytes in
                _ = cutover_easy_setopt_ptr(
                    handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
            }
        }
        if request.method == "HEAD" {
            cutover_easy_setopt_long(handle, CURLOPT_NOBODY, 1)
        } else if !(request.method == "GET" && request.body == nil) && !(request.method == "POST" && request.body != nil) {
            cutover_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        }
        cutover_easy_setopt_data_cb(handle, CURLOPT_WRITEFUNCTION, curlWriteBody)
        cutover_easy_setopt_ptr(handle, CURLOPT_WRITEDATA, context.toOpaque())
        cutover_easy_setopt_data_cb(handle, CURLOPT_HEADERFUNCTION, curlWriteHeader)
        cutover_easy_setopt_ptr(handle, CURLOPT_HEADERDATA, context.toOpaque())

        let code = curl_easy_perform(handle)
        var response = CurlResponse()
        var status = 0
        cutover_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        response.status = status
        response.headers = sink.headers
        response.body = sink.body
        response.chunks = sink.chunks
        response.timeToHeaders = sink.headersAt
        response.total = ContinuousClock.now - sink.start
        if code != CURLE_OK {
            let detail = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            response.error = CurlError(code: Int(code.rawValue), detail: detail)
        }
        return response
    }
}

/// Collects one transfer's head and body; reached from libcurl's C callbacks through `Unmanaged`.
final class TransferSink {
    let start = ContinuousClock.now
    var headers: [(name: String, value: String)] = []
    var headersAt: Duration?
    var body: [UInt8] = []
    var chunks: [BodyChunk] = []
}

/// CURLOPT_WRITEFUNCTION: a non-capturing C callback; the sink comes in as `context`.
private let curlWriteBody: cutover_curl_data_cb = { data, size, count, context in
    let length = size * count
    guard let context, let data else { return length }
    let sink = Unmanaged<TransferSink>.fromOpaque(context).takeUnretainedValue()
    let bytes = Array(UnsafeRawBufferPointer(start: data, count: length))
    sink.body += bytes
    sink.chunks.append(BodyChunk(at: ContinuousClock.now - sink.start, bytes: bytes))
    return length
}

/// CURLOPT_HEADERFUNCTION: one call per header line; a status line starts a new head
/// (so only the final response's headers are kept after 1xx responses).
private let curlWriteHeader: cutover_curl_data_cb = { data, size, count, context in
    let length = size * count
    guard let context, let data else { return length }
    let sink = Unmanaged<TransferSink>.fromOpaque(context).takeUnretainedValue()
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    if line.hasPrefix("HTTP/") {
        sink.headers = []
        sink.headersAt = ContinuousClock.now - sink.start
    } else if let colon = line.firstIndex(of: ":") {
        let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
        let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        sink.headers.append((name, value))
    }
    return length
}
