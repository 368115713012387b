/// One of the two environments behind the router, or neither (no upstream executed it).
package enum ServedBy: UInt8, Sendable, CaseIterable, Codable {
    case unknown = 0
    case blue = 1
    case green = 2

    package var name: String {
        switch self {
        case .unknown: "unknown"
        case .blue: "blue"
        case .green: "green"
        }
    }

    init(header: String?) {
        switch header?.lowercased() {
        case "blue": self = .blue
        case "green": self = .green
        default: self = .unknown
        }
    }
}
