import ConfigInput

/// How fast a rollback takes effect: from the rollback call returning to the send time of
/// the last request green served (per its ledger) that was sent after it; within the
/// bound (default 1s).
public struct RollbackTime: Check {
    public let name = "RollbackTime"
    public let parameters: Set<String> = ["max"]
    public init() {}

    public struct Evidence: CheckEvidence {
        public struct Rollback: Encodable, Sendable {
            public var returnedMs: Double
            public var requestsAfter: Int
            public var rollbackTimeMs: Double
            public var lastGreenRequest: String?
        }
        public var boundMs: Double
        public var rollbacks: [Rollback]
    }

    public func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let bound = spec.max ?? .seconds(1)
        let boundUs = bound.microseconds
        var worst: UInt64 = 0
        var rows: [Evidence.Rollback] = []
        for rollback in run.weightChanges where rollback.action == .rollback {
            let until = run.weightChanges.nextCall(after: rollback.returnedUs)
            let after = run.records.filter { $0.outcome != .notSent && $0.sentUs > rollback.returnedUs && $0.routedByUs < until }
            let lastGreen = after.filter { $0.servedBy == .green }.max { $0.sentUs < $1.sentUs }
            let elapsed = lastGreen.map { UInt64($0.sentUs - rollback.returnedUs) } ?? 0
            worst = max(worst, elapsed)
            rows.append(
                Evidence.Rollback(
                    returnedMs: Double(rollback.returnedUs) / 1000, requestsAfter: after.count, rollbackTimeMs: Double(elapsed) / 1000,
                    lastGreenRequest: lastGreen.map(run.requestID)))
        }
        let evidence = Evidence(boundMs: Double(boundUs) / 1000, rollbacks: rows)
        guard !rows.isEmpty else { return .inconclusive(name, "no accepted rollback in the run", evidence) }
        guard rows.allSatisfy({ $0.requestsAfter > 0 }) else { return .inconclusive(name, "no request was sent after a rollback", evidence) }
        return CheckResult(
            name: name, status: worst <= boundUs ? .pass : .fail,
            summary: "slowest rollback: green served a request sent \(Double(worst) / 1000) ms after the call returned (bound \(DurationText.format(bound)))",
            evidence: evidence)
    }
}
