/// What a request asked for.
package enum Endpoint: UInt8, Sendable, CaseIterable, Codable {
    case models = 0
    case chat = 1
    case chatStream = 2

    package var name: String {
        switch self {
        case .models: "models"
        case .chat: "chat"
        case .chatStream: "chat-stream"
        }
    }

    package init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }
}
