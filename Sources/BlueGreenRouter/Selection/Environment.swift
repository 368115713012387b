/// One of the two relay environments behind the router.
public enum Environment: String, Sendable, CaseIterable, Codable {
    case blue
    case green

    /// The environment a failed connect is retried on.
    public var other: Environment { self == .blue ? .green : .blue }
}
