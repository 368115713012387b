/// How a chat request's body names the request it is. The harness writes `(request <id>)`
/// into every prompt it sends, so the request is unique, its completion is unique (the
/// content is seeded by the prompt), and the mock can tell which client request an
/// execution copies even when a router dropped or replaced its `X-Request-ID`.
package enum RequestIdentity {
    private static let opening = Array("(request ".utf8)

    /// The marker for request `id`, as it appears in a prompt.
    package static func marker(_ id: String) -> String { "(request \(id))" }

    /// The id named by the last marker in `text`, if any.
    package static func find(in text: String) -> String? {
        let bytes = Array(text.utf8)
        guard bytes.count > opening.count else { return nil }
        var start = bytes.count - opening.count
        while start >= 0 {
            if bytes[start] == opening[0], bytes[start..<(start + opening.count)].elementsEqual(opening) {
                let idStart = start + opening.count
                guard let close = bytes[idStart...].firstIndex(of: UInt8(ascii: ")")), close > idStart else { return nil }
                return String(decoding: bytes[idStart..<close], as: UTF8.self)
            }
            start -= 1
        }
        return nil
    }
}
