import ConfigInput

/// Why Cutover could not run: bad input (a suite or profile that breaks a rule, named by
/// its source, line and field) or an environment it could not set up (a router that
/// would not start). A run that started always ends in a ``RunResult`` instead.
public struct CutoverError: Error, CustomStringConvertible, Sendable {
    /// The file, or what was built in code, that holds the mistake; empty when the
    /// environment, not the input, failed.
    public var source: String
    /// The 1-based line in `source`, when it is a file.
    public var line: Int?
    /// The field at fault, as a path such as `timeline[2].at`.
    public var field: String
    /// What was wrong and what was expected.
    public var message: String

    init(source: String, line: Int?, field: String, message: String) {
        self.source = source
        self.line = line
        self.field = field
        self.message = message
    }

    init(_ error: ConfigError) {
        self.init(source: error.source, line: error.line, field: error.field, message: error.message)
    }

    /// The environment (mocks, router) could not be set up.
    static func environment(_ message: String) -> CutoverError {
        CutoverError(source: "", line: nil, field: "", message: message)
    }

    /// `source:line: field: message`, as the CLI prints bad input.
    public var description: String {
        guard !source.isEmpty else { return message }
        return ConfigError(source: source, line: line, field: field, message: message).description
    }
}
