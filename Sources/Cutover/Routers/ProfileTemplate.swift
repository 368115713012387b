import ConfigInput
import Foundation

/// A string of a router profile with placeholders (`{blue}`, `{port}`, `{percent}`, …),
/// checked when the profile is read: an unknown placeholder, or one the field cannot
/// have (`{percent}` outside `canary`), is an error that names the file, line and field.
package struct ProfileTemplate: Sendable, Equatable {
    package let text: String
    /// The placeholders it uses.
    package let placeholders: Set<String>

    /// Every placeholder SPEC §5 defines.
    package static let known: [String] = [
        "blue", "green", "blue_host", "blue_port", "green_host", "green_port", "upstream_api_key", "port", "admin_port", "percent",
        "green_weight", "blue_weight", "workdir", "pid",
    ]
    /// The upstreams, as URLs and as the host and port a router's configuration wants, and
    /// their API key: known from the start.
    package static let upstreams: Set<String> = ["blue", "green", "blue_host", "blue_port", "green_host", "green_port", "upstream_api_key"]
    /// The weights an action moves to: in `canary`, `promote`, `rollback` and config files.
    package static let weights: Set<String> = ["green_weight", "blue_weight"]

    init(_ node: ConfigNode, allowed: Set<String>) throws(ConfigError) {
        let text = try node.string()
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw node.error("expected a non-empty string") }
        self.text = text
        switch Self.placeholders(in: text, allowed: allowed, strict: true) {
        case .success(let used): placeholders = used
        case .failure(let message): throw node.error(message.text)
        }
    }

    /// A configuration file's text (`files:`), whose own `{…}` words (Caddy's
    /// `{http.request.header.X}`, say) are the router's: only SPEC §5's names are replaced,
    /// and one the file cannot have is an error naming the file and its line.
    init(file text: String, source: String, allowed: Set<String>) throws(ConfigError) {
        var used: Set<String> = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            switch Self.placeholders(in: String(line), allowed: allowed, strict: false) {
            case .success(let names): used.formUnion(names)
            case .failure(let message): throw ConfigError(source: source, line: number + 1, field: "", message: message.text)
            }
        }
        self.text = text
        self.placeholders = used
    }

    /// The placeholders of `text`. Only `{word}` is one (JSON keeps its braces); `strict`
    /// makes an unknown word an error, else it is left to the router.
    private static func placeholders(in text: String, allowed: Set<String>, strict: Bool) -> Result<Set<String>, Message> {
        var used: Set<String> = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            let name = String(rest[rest.index(after: open)..<close])
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0 == "_" }) {
                if !known.contains(name) {
                    if strict { return .failure(Message("unknown placeholder {\(name)}; expected one of " + known.map { "{\($0)}" }.joined(separator: ", "))) }
                } else if !allowed.contains(name) {
                    return .failure(
                        Message("{\(name)} cannot be used here; this field has " + known.filter(allowed.contains).map { "{\($0)}" }.joined(separator: ", ")))
                } else {
                    used.insert(name)
                }
            }
            rest = rest[rest.index(after: open)...]
        }
        return .success(used)
    }

    /// Why a text's placeholders are wrong.
    struct Message: Error {
        let text: String
        init(_ text: String) { self.text = text }
    }

    /// The text with each placeholder replaced by its value (values the harness chose:
    /// loopback URLs, ports, folders, numbers).
    package func render(_ values: [String: String]) -> String {
        var out = text
        for (name, value) in values { out = out.replacingOccurrences(of: "{\(name)}", with: value) }
        return out
    }
}
