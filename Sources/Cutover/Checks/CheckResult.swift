import Foundation
import HTTPServerCore

/// What a check measured, typed per check so that tests assert on fields and reports
/// encode it as JSON.
package protocol CheckEvidence: Encodable, Sendable {
    /// The first offending requests (id, what happened, where), for a test failure's text;
    /// empty when the check judges no single request.
    var offendingRequests: [String] { get }
}

extension CheckEvidence {
    package var offendingRequests: [String] { [] }
}

/// A check's verdict with the evidence behind it, for the report and for CI.
public struct CheckResult: Sendable {
    /// How a check judged the run.
    public enum Status: String, Sendable, CaseIterable {
        /// The router did what the check asks.
        case pass
        /// The router did not: a defect, with the evidence.
        case fail
        /// The check does not apply to this router (a feature it does not offer).
        case skipped
        /// The check could not judge (no traffic, no switch, incomplete evidence, a
        /// machine too noisy): never a pass, and the run's verdict is `invalid`.
        case inconclusive
    }

    /// The check's name, as suites spell it.
    public package(set) var name: String
    /// Its verdict on the run.
    public package(set) var status: Status
    /// What was measured and against which bound, in one sentence; for an inconclusive
    /// check, why it could not judge.
    public package(set) var summary: String
    /// Counts, statistics, bounds and (a sample of) the offending request ids.
    package var evidence: any CheckEvidence

    /// The check, when it is one of the catalog's (always, for a result a check made).
    package var id: CheckID? { CheckID(rawValue: name) }

    package init(name: String, status: Status, summary: String, evidence: any CheckEvidence) {
        self.name = name
        self.status = status
        self.summary = summary
        self.evidence = evidence
    }

    /// The evidence as JSON for the reports (keys sorted, so output is stable).
    package var evidenceValue: JSON {
        JSON.encoding(evidence) ?? .object([("error", .string("evidence could not be encoded"))])
    }

    /// The evidence as JSON text: counts, statistics, bounds and the first offending
    /// requests, as report.json has it.
    public var evidenceJSON: String { evidenceValue.text }

    /// The first offending requests (id, what happened, where), as the evidence lists
    /// them; empty when the check found none or judges no single request.
    public var offendingRequests: [String] { evidence.offendingRequests }

    /// Offending ids are listed up to this many; the count says how many there were.
    static let sampleLimit = 20

    /// A check that could not judge, with the reason.
    static func inconclusive(_ name: String, _ reason: String, _ evidence: any CheckEvidence) -> CheckResult {
        CheckResult(name: name, status: .inconclusive, summary: reason, evidence: evidence)
    }
}

/// A check: a pure function from the reconciled run (and its parameters) to a verdict. (A
/// suite names one with the public `Suite.Check`, its name and parameters.)
package protocol RunCheck: Sendable {
    var id: CheckID { get }
    /// The parameters a suite may give it besides `name`.
    var parameters: Set<String> { get }
    func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult
}

extension RunCheck {
    /// The check's name, as suites and reports spell it.
    package var name: String { id.rawValue }

    /// Reconciles a raw history, then judges it (for tests and one-off use).
    package func evaluate(_ history: RunHistory, _ spec: CheckSpec) -> CheckResult { evaluate(ReconciledRun(history), spec) }
}

extension Array where Element == String {
    /// The first `CheckResult.sampleLimit` items: evidence lists stay short, counts say how many.
    var sample: [String] { Array(prefix(CheckResult.sampleLimit)) }
}
