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
    package static let known: [String] = ["blue", "green", "port", "admin_port", "percent", "workdir", "pid"]

    init(_ node: ConfigNode, allowed: Set<String>) throws(ConfigError) {
        let text = try node.string()
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw node.error("expected a non-empty string") }
        var used: Set<String> = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            let name = String(rest[rest.index(after: open)..<close])
            // Only `{word}` is a placeholder: JSON bodies keep their braces.
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0 == "_" }) {
                guard Self.known.contains(name) else {
                    throw node.error("unknown placeholder {\(name)}; expected one of " + Self.known.map { "{\($0)}" }.joined(separator: ", "))
                }
                guard allowed.contains(name) else {
                    throw node.error(
                        "{\(name)} cannot be used here; this field has " + Self.known.filter(allowed.contains).map { "{\($0)}" }.joined(separator: ", "))
                }
                used.insert(name)
            }
            rest = rest[rest.index(after: open)...]
        }
        self.text = text
        self.placeholders = used
    }

    /// The text with each placeholder replaced by its value (values the harness chose:
    /// loopback URLs, ports, folders, numbers).
    package func render(_ values: [String: String]) -> String {
        var out = text
        for (name, value) in values { out = out.replacingOccurrences(of: "{\(name)}", with: value) }
        return out
    }
}
