import NIOCore

/// Writing a head for the next hop: the fields it keeps are copied as bytes, the proxy's own
/// fields (`Host`, `X-Environment`, `X-Request-ID`, `Connection`) are added, and every line
/// ends in CRLF whatever the sender used.
extension MessageHead {
    /// The request as the upstream gets it: the request line as it came, the relayed fields,
    /// then `host`, `x-environment` and, when the client sent none, the `x-request-id` the
    /// router made.
    func writeUpstreamRequest(into out: inout ByteBuffer, host: String, environment: Environment, generatedRequestID: ByteBuffer?) {
        bytes.withUnsafeReadableBytes { raw in
            out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[startLine]))
            out.writeStaticString("\r\n")
            writeRelayedFields(raw, into: &out)
        }
        out.writeStaticString("host: ")
        out.writeString(host)
        out.writeStaticString("\r\nx-environment: ")
        out.writeStaticString(environment.fieldValue)
        if let generatedRequestID {
            out.writeStaticString("\r\nx-request-id: ")
            out.writeImmutableBuffer(generatedRequestID)
        }
        out.writeStaticString("\r\n\r\n")
    }

    /// The response as the client gets it: `HTTP/1.1` with the upstream's status and reason,
    /// the relayed fields, `x-environment`, the request's id when the upstream echoed none,
    /// and `connection: close` when this response is the connection's last.
    func writeClientResponse(into out: inout ByteBuffer, environment: Environment, requestID: ByteBuffer, close: Bool) {
        var hasRequestID = false
        bytes.withUnsafeReadableBytes { raw in
            out.writeStaticString("HTTP/1.1")
            out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[(startLine.lowerBound + 8)..<startLine.upperBound]))
            out.writeStaticString("\r\n")
            hasRequestID = writeRelayedFields(raw, into: &out)
        }
        out.writeStaticString("x-environment: ")
        out.writeStaticString(environment.fieldValue)
        out.writeStaticString("\r\n")
        if !hasRequestID {
            out.writeStaticString("x-request-id: ")
            out.writeImmutableBuffer(requestID)
            out.writeStaticString("\r\n")
        }
        if close { out.writeStaticString("connection: close\r\n") }
        out.writeStaticString("\r\n")
    }

    /// An interim (1xx) response, relayed with its fields and nothing added.
    func writeInterimResponse(into out: inout ByteBuffer) {
        bytes.withUnsafeReadableBytes { raw in
            out.writeStaticString("HTTP/1.1")
            out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[(startLine.lowerBound + 8)..<startLine.upperBound]))
            out.writeStaticString("\r\n")
            writeRelayedFields(raw, into: &out)
        }
        out.writeStaticString("\r\n")
    }

    /// Copies each relayed field line; returns whether an `x-request-id` was among them.
    @discardableResult
    private func writeRelayedFields(_ raw: UnsafeRawBufferPointer, into out: inout ByteBuffer) -> Bool {
        var hasRequestID = false
        for field in fields where isRelayed(field) {
            if field.role == .requestID { hasRequestID = true }
            out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[field.name.lowerBound..<field.value.upperBound]))
            out.writeStaticString("\r\n")
        }
        return hasRequestID
    }
}

extension Environment {
    /// The `X-Environment` value, as static bytes.
    var fieldValue: StaticString {
        switch self {
        case .blue: "blue"
        case .green: "green"
        }
    }
}
