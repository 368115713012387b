import ConfigInput

/// The run itself was valid: no `not-sent` slot, and the p99 scheduling lag within its
/// bound (default 50 ms). When this fails, the other verdicts say nothing about the router.
package struct GeneratorValid: Check {
    package let name = "GeneratorValid"
    package let parameters: Set<String> = ["max"]
    package init() {}

    package struct Evidence: CheckEvidence {
        package var scheduled: Int
        package var notSent: Int
        package var lagP99Ms: Double
        package var boundMs: Double
        /// Requests libcurl sent more than once (a reused connection died first).
        package var replayed: Int
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let bound = spec.max ?? .milliseconds(50)
        let boundUs = bound.microseconds
        let sent = run.records.filter { $0.outcome != .notSent }
        let notSent = run.records.count - sent.count
        let p99 = Percentile.of(sent.map { UInt64($0.lagUs) }, 0.99) ?? 0
        let valid = notSent == 0 && p99 <= boundUs && !sent.isEmpty
        return CheckResult(
            name: name, status: valid ? .pass : .fail,
            summary:
                "\(notSent) not-sent slots of \(run.records.count); p99 scheduling lag \(Double(p99) / 1000) ms (bound \(DurationText.format(bound)))",
            evidence: Evidence(
                scheduled: run.records.count, notSent: notSent, lagP99Ms: Double(p99) / 1000, boundMs: Double(boundUs) / 1000,
                replayed: sent.filter { $0.attempts > 1 }.count))
    }
}
