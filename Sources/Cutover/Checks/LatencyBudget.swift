import HTTPServerCore

/// Switching costs no latency to speak of: the p99 time to first byte (from the intended
/// send time) of requests sent during an action (from its call to 2 s after it returned)
/// stays within `factor` (default 3) of the baseline phase's p99. The baseline is the
/// timeline's first phase; its p99 counts as at least 5 ms, below which loopback jitter
/// is noise, not a router defect.
public struct LatencyBudget: Check {
    public let name = "LatencyBudget"
    public init() {}

    static let settleUs: UInt32 = 2_000_000
    static let floorUs: UInt32 = 5_000

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
        func ttfb(_ records: [LedgerRecord]) -> [UInt32] {
            records.filter { $0.outcome == .ok && $0.firstByteUs >= $0.intendedUs }.map { $0.firstByteUs - $0.intendedUs }
        }
        let base = ttfb(history.records(in: [baseline]))
        let during = ttfb(
            history.client.records.filter { record in actions.contains { record.sentUs >= $0.calledUs && record.sentUs < $0.returnedUs &+ Self.settleUs } })
        guard !actions.isEmpty, base.count >= 100, !during.isEmpty else {
            return CheckResult(
                name: name, status: .skipped, summary: "not enough traffic in the baseline phase or during actions to compare",
                evidence: .object([("actions", .int(actions.count)), ("baseline_requests", .int(base.count)), ("during_requests", .int(during.count))]))
        }
        let baseP99 = Self.p99(base)
        let duringP99 = Self.p99(during)
        let budget = Double(max(baseP99, Self.floorUs)) * factor
        return CheckResult(
            name: name, status: Double(duringP99) <= budget ? .pass : .fail,
            summary:
                "p99 time to first byte during actions \(Double(duringP99) / 1000) ms against a budget of \(budget / 1000) ms (\(factor) × baseline '\(baseline.name)' p99 \(Double(baseP99) / 1000) ms, floor 5 ms)",
            evidence: .object([
                ("baseline_phase", .string(baseline.name)), ("baseline_p99_ms", .double(Double(baseP99) / 1000)), ("baseline_requests", .int(base.count)),
                ("during_actions_p99_ms", .double(Double(duringP99) / 1000)), ("during_requests", .int(during.count)), ("factor", .double(factor)),
                ("budget_ms", .double(budget / 1000)), ("actions", .int(actions.count)),
            ]))
    }

    static func p99(_ values: [UInt32]) -> UInt32 {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
    }
}
