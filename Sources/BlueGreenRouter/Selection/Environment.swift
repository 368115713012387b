/// One of the two relay environments behind the router.
package enum Environment: String, Sendable, CaseIterable, Codable {
    case blue
    case green

    /// The environment a failed connect is retried on.
    package var other: Environment { self == .blue ? .green : .blue }
}
