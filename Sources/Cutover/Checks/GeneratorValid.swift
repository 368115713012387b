import ConfigInput
import HTTPServerCore

/// The run itself was valid: no `not-sent` slot, and the p99 scheduling lag within its
/// bound (default 50 ms). When this fails, the other verdicts say nothing about the router.
public struct GeneratorValid: Check {
    public let name = "GeneratorValid"
    public init() {}

    public func evaluate(_ history: RunHistory, _ spec: CheckSpec) -> CheckResult {
        let bound = spec.max ?? .milliseconds(50)
        let boundUs = bound.microseconds
        let sent = history.client.records.filter { $0.outcome != .notSent }
        let notSent = history.client.records.count - sent.count
        let p99 = Percentile.of(sent.map { UInt64($0.lagUs) }, 0.99) ?? 0
        let valid = notSent == 0 && p99 <= boundUs
        return CheckResult(
            name: name, status: valid ? .pass : .fail,
            summary:
                "\(notSent) not-sent slots of \(history.client.records.count); p99 scheduling lag \(Double(p99) / 1000) ms (bound \(DurationText.format(bound)))",
            evidence: .object([
                ("scheduled", .int(history.client.records.count)), ("not_sent", .int(notSent)),
                ("lag_p99_ms", .double(Double(p99) / 1000)), ("bound_ms", .double(Double(boundUs) / 1000)),
            ]))
    }
}
