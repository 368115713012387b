import ConfigInput

/// Where one environment's relay listens (plain HTTP/1.1).
package struct UpstreamTarget: Sendable, Equatable {
    package var host: String
    package var port: Int
    /// The `Host` header sent upstream.
    package var hostHeader: String
    /// The URL as given, for health checks and status.
    package var url: String

    /// Parses `http://host:port` (a trailing `/` or `/v1` is accepted and dropped).
    package init(url: String, field: String) throws(ConfigError) {
        func fail(_ message: String) -> ConfigError {
            ConfigError(source: "command line", line: nil, field: field, message: message)
        }
        guard url.hasPrefix("http://") else { throw fail("expected an http:// URL, got '\(url)'") }
        var rest = url.dropFirst("http://".count)
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[slash...]
            guard path == "/" || path == "/v1" || path == "/v1/" else { throw fail("expected no path beyond /v1, got '\(path)'") }
            rest = rest[..<slash]
        }
        let host: Substring
        let portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("unclosed '[' in '\(url)'") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            portText = after.hasPrefix(":") ? after.dropFirst() : nil
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
            portText = nil
        }
        guard !host.isEmpty else { throw fail("missing host in '\(url)'") }
        let port = portText.map { Int($0) } ?? 80
        guard let port, (1...65535).contains(port) else { throw fail("expected a port in 1...65535 in '\(url)'") }
        self.host = String(host)
        self.port = port
        self.hostHeader = String(rest)
        self.url = "http://\(rest)"
    }
}
