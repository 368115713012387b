import HTTPServerCore

/// A check's verdict with the evidence behind it, for the report and for CI.
public struct CheckResult: Sendable {
    public enum Status: String, Sendable {
        case pass, fail, skipped
    }

    public var name: String
    public var status: Status
    /// What was measured and against which bound, in one sentence.
    public var summary: String
    /// Counts, statistics, bounds and (a sample of) the offending request ids.
    public var evidence: JSON

    public init(name: String, status: Status, summary: String, evidence: JSON) {
        self.name = name
        self.status = status
        self.summary = summary
        self.evidence = evidence
    }

    /// Offending ids are listed up to this many; the count says how many there were.
    static let sampleLimit = 20
}

/// A check: a pure function from the run's history (and its parameters) to a verdict.
public protocol Check: Sendable {
    var name: String { get }
    func evaluate(_ history: RunHistory, _ spec: CheckSpec) -> CheckResult
}
