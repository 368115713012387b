import HTTPServerCore

/// Switching costs no latency to speak of: per endpoint, the p99 time to first byte (from
/// the intended send time) of requests sent during an action (from its call to 2 s after
/// it returned) stays within `factor` (default 3) of the same endpoint's p99 in the
/// baseline phase (the timeline's first). Endpoints are judged apart because a mix of
/// fast and slow ones has a p99 that says little about either. A baseline p99 counts as
/// at least 5 ms, below which loopback jitter is noise, not a router defect.
public struct LatencyBudget: Check {
    public let name = "LatencyBudget"
    public init() {}

    static let settleUs: UInt32 = 2_000_000
    static let floorUs: UInt32 = 5_000
    static let minimumBaseline = 50
    static let minimumDuring = 10

    public func evaluate(_ history: RunHistory, _ spec: CheckSpec) -> CheckResult {
        let factor = spec.factor ?? 3
        guard let baseline = history.phases.first else {
            return CheckResult(name: name, status: .skipped, summary: "the timeline has no phase to serve as baseline", evidence: .object([]))
        }
        let windows = history.phases(named: spec.phases)
        let actions = history.actions.filter { action in
            action.succeeded && action.name != "validate"
                && (spec.phases.isEmpty || windows.contains { action.calledUs >= $0.startUs && action.calledUs < $0.endUs })
        }
        func ttfb(_ records: [LedgerRecord], _ endpoint: Endpoint) -> [UInt32] {
            records.filter { $0.endpoint == endpoint && $0.outcome == .ok && $0.firstByteUs >= $0.intendedUs }.map { $0.firstByteUs - $0.intendedUs }
        }
        let baseRecords = history.records(in: [baseline])
        let duringRecords = history.client.records.filter { record in
            actions.contains { record.sentUs >= $0.calledUs && record.sentUs < $0.returnedUs &+ Self.settleUs }
        }
        var rows: [JSON] = []
        var over: [String] = []
        for endpoint in Endpoint.allCases {
            let base = ttfb(baseRecords, endpoint)
            let during = ttfb(duringRecords, endpoint)
            guard base.count >= Self.minimumBaseline, during.count >= Self.minimumDuring else { continue }
            let baseP99 = Percentile.of(base, 0.99)!
            let duringP99 = Percentile.of(during, 0.99)!
            let budget = Double(max(baseP99, Self.floorUs)) * factor
            rows.append(
                .object([
                    ("endpoint", .string(endpoint.name)), ("baseline_p99_ms", .double(Double(baseP99) / 1000)), ("baseline_requests", .int(base.count)),
                    ("during_actions_p99_ms", .double(Double(duringP99) / 1000)), ("during_requests", .int(during.count)),
                    ("budget_ms", .double(budget / 1000)),
                ]))
            if Double(duringP99) > budget {
                over.append("\(endpoint.name): p99 \(Double(duringP99) / 1000) ms during actions against a budget of \(budget / 1000) ms")
            }
        }
        guard !actions.isEmpty, !rows.isEmpty else {
            return CheckResult(
                name: name, status: .skipped, summary: "not enough traffic in the baseline phase or during actions to compare",
                evidence: .object([
                    ("actions", .int(actions.count)), ("baseline_requests", .int(baseRecords.count)), ("during_requests", .int(duringRecords.count)),
                ]))
        }
        return CheckResult(
            name: name, status: over.isEmpty ? .pass : .fail,
            summary: over.isEmpty
                ? "p99 time to first byte during \(actions.count) actions within \(factor) × baseline '\(baseline.name)' for \(rows.count) endpoints (floor 5 ms)"
                : over.joined(separator: "; ") + " (\(factor) × baseline '\(baseline.name)', floor 5 ms)",
            evidence: .object([
                ("baseline_phase", .string(baseline.name)), ("factor", .double(factor)), ("actions", .int(actions.count)), ("endpoints", .array(rows)),
            ]))
    }

}
