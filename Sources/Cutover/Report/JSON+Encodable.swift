import Foundation
import HTTPServerCore

extension JSON {
    /// An `Encodable` value as report JSON: snake_case keys, sorted so output is stable;
    /// nil when it cannot be encoded.
    static func encoding(_ value: some Encodable) -> JSON? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        guard let data = try? encoder.encode(value) else { return nil }
        return .raw(String(decoding: data, as: UTF8.self))
    }
}
