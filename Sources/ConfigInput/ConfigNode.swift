import Foundation
import Yams

/// A parsed config or request body value that remembers where it came from, so every
/// validation error can name the file, the line and the field.
package struct ConfigNode: Sendable {
    /// The value itself; containers hold child nodes.
    package indirect enum Value: Sendable {
        case null
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)
        case array([ConfigNode])
        case object([(key: String, node: ConfigNode)])
    }

    package var value: Value
    /// Dotted path of the field from the document root, e.g. `faults[0].distribution.type`.
    package var path: String
    /// File name or `request body`.
    package var source: String
    /// 1-based line, when the source format keeps it (YAML does).
    package var line: Int?

    package init(value: Value, path: String, source: String, line: Int? = nil) {
        self.value = value
        self.path = path
        self.source = source
        self.line = line
    }

    /// An error that points at this node.
    package func error(_ message: String) -> ConfigError {
        ConfigError(source: source, line: line, field: path, message: message)
    }

    /// What kind of value this is, for "expected X, got Y" messages.
    package var kindName: String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .int: "an integer"
        case .double: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "a mapping"
        }
    }

    static func childPath(_ parent: String, _ key: String) -> String {
        parent.isEmpty ? key : "\(parent).\(key)"
    }
}

/// A validation error: where (source, line, field) and what was expected.
package struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    package var source: String
    package var line: Int?
    package var field: String
    package var message: String

    package init(source: String, line: Int?, field: String, message: String) {
        self.source = source
        self.line = line
        self.field = field
        self.message = message
    }

    package var description: String {
        var text = source
        if let line { text += ":\(line)" }
        if !field.isEmpty { text += ": \(field)" }
        return "\(text): \(message)"
    }
}

// MARK: - Typed access

extension ConfigNode {
    /// The entries of a mapping, after checking that no key outside `allowed` is present.
    package func object(allowed: Set<String>) throws(ConfigError) -> [String: ConfigNode] {
        guard case .object(let pairs) = value else {
            throw error("expected a mapping, got \(kindName)")
        }
        var result: [String: ConfigNode] = [:]
        for (key, node) in pairs {
            guard allowed.contains(key) else {
                let known = allowed.sorted().joined(separator: ", ")
                throw node.error("unknown key '\(key)' (expected one of: \(known))")
            }
            result[key] = node
        }
        return result
    }

    /// The entries of a mapping in file order, whatever their keys (header names, …).
    package func entries() throws(ConfigError) -> [(key: String, node: ConfigNode)] {
        guard case .object(let pairs) = value else { throw error("expected a mapping, got \(kindName)") }
        return pairs.map { (key: $0.0, node: $0.1) }
    }

    package func array() throws(ConfigError) -> [ConfigNode] {
        guard case .array(let items) = value else { throw error("expected a list, got \(kindName)") }
        return items
    }

    package func string() throws(ConfigError) -> String {
        guard case .string(let text) = value else { throw error("expected a string, got \(kindName)") }
        return text
    }

    package func bool() throws(ConfigError) -> Bool {
        guard case .bool(let flag) = value else { throw error("expected true or false, got \(kindName)") }
        return flag
    }

    package func int(in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let number: Int
        switch value {
        case .int(let n): number = n
        case .double(let d) where d.rounded() == d && abs(d) < 1e15: number = Int(d)
        default: throw error("expected an integer, got \(kindName)")
        }
        guard range.contains(number) else {
            throw error("expected an integer in \(range.lowerBound)...\(range.upperBound), got \(number)")
        }
        return number
    }

    package func double(in range: ClosedRange<Double>) throws(ConfigError) -> Double {
        let number: Double
        switch value {
        case .int(let n): number = Double(n)
        case .double(let d): number = d
        default: throw error("expected a number, got \(kindName)")
        }
        guard number.isFinite, range.contains(number) else {
            throw error("expected a number in \(range.lowerBound)...\(range.upperBound), got \(number)")
        }
        return number
    }

    /// A string that must be one of `choices`.
    package func choice(_ choices: [String]) throws(ConfigError) -> String {
        let text = try string()
        guard choices.contains(text) else {
            throw error("expected one of \(choices.joined(separator: "|")), got '\(text)'")
        }
        return text
    }
}

// MARK: - Parsing

extension ConfigNode {
    /// Parses YAML (and therefore most JSON), keeping line numbers.
    package static func parseYAML(_ text: String, source: String) throws(ConfigError) -> ConfigNode {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let yamlError as YamlError {
            throw ConfigError(source: source, line: Self.line(of: yamlError), field: "", message: "not valid YAML: \(yamlError)")
        } catch {
            throw ConfigError(source: source, line: nil, field: "", message: "not valid YAML: \(error)")
        }
        guard let root else {
            return ConfigNode(value: .object([]), path: "", source: source, line: 1)
        }
        return try convert(root, path: "", source: source)
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }

    private static func convert(_ node: Node, path: String, source: String) throws(ConfigError) -> ConfigNode {
        let line = node.mark.map { $0.line }
        switch node {
        case .scalar(let scalar):
            let value: Value
            if scalar.style != .plain {
                value = .string(scalar.string)
            } else if node.null != nil {
                value = .null
            } else if let flag = node.bool {
                value = .bool(flag)
            } else if let number = node.int {
                value = .int(number)
            } else if let number = node.float {
                value = .double(number)
            } else {
                value = .string(scalar.string)
            }
            return ConfigNode(value: value, path: path, source: source, line: line)
        case .sequence(let sequence):
            var items: [ConfigNode] = []
            for (index, child) in sequence.enumerated() {
                items.append(try convert(child, path: "\(path)[\(index)]", source: source))
            }
            return ConfigNode(value: .array(items), path: path, source: source, line: line)
        case .mapping(let mapping):
            var pairs: [(key: String, node: ConfigNode)] = []
            var seen = Set<String>()
            for (keyNode, child) in mapping {
                guard let key = keyNode.string else {
                    throw ConfigError(source: source, line: keyNode.mark?.line, field: path, message: "mapping keys must be strings")
                }
                guard seen.insert(key).inserted else {
                    throw ConfigError(source: source, line: keyNode.mark?.line, field: childPath(path, key), message: "duplicate key '\(key)'")
                }
                pairs.append((key, try convert(child, path: childPath(path, key), source: source)))
            }
            return ConfigNode(value: .object(pairs), path: path, source: source, line: line)
        case .alias:
            throw ConfigError(source: source, line: line, field: path, message: "YAML aliases are not supported")
        }
    }

    /// Parses a JSON body (admin API requests). JSON keeps no line numbers here; errors name the field.
    package static func parseJSON(_ bytes: [UInt8], source: String) throws(ConfigError) -> ConfigNode {
        let json: JSONValue
        do {
            json = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw ConfigError(source: source, line: nil, field: "", message: "not valid JSON (\(Self.describe(error)))")
        }
        return json.node(path: "", source: source)
    }

    private static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            return context.underlyingError.map { "\($0)" } ?? context.debugDescription
        }
        return "\(error)"
    }
}

/// Decodable JSON tree; keeps booleans and integers distinct from doubles.
private enum JSONValue: Decodable {
    case null, bool(Bool), int(Int), double(Double), string(String), array([JSONValue]), object([(String, JSONValue)])

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: Key.self) {
            var pairs: [(String, JSONValue)] = []
            for key in keyed.allKeys {
                pairs.append((key.stringValue, try keyed.decode(JSONValue.self, forKey: key)))
            }
            self = .object(pairs)
            return
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !unkeyed.isAtEnd { items.append(try unkeyed.decode(JSONValue.self)) }
            self = .array(items)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let flag = try? single.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? single.decode(Int.self) {
            self = .int(number)
        } else if let number = try? single.decode(Double.self) {
            self = .double(number)
        } else {
            self = .string(try single.decode(String.self))
        }
    }

    func node(path: String, source: String) -> ConfigNode {
        let value: ConfigNode.Value
        switch self {
        case .null: value = .null
        case .bool(let b): value = .bool(b)
        case .int(let n): value = .int(n)
        case .double(let d): value = .double(d)
        case .string(let s): value = .string(s)
        case .array(let items):
            value = .array(items.enumerated().map { $1.node(path: "\(path)[\($0)]", source: source) })
        case .object(let pairs):
            value = .object(pairs.map { ($0, $1.node(path: ConfigNode.childPath(path, $0), source: source)) })
        }
        return ConfigNode(value: value, path: path, source: source)
    }
}
