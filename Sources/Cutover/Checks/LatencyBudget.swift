/// Switching costs no latency to speak of: per endpoint, the p99 time to first byte (from
/// the intended send time) of requests sent during an action (from its call to 2 s after
/// it returned) stays within `factor` (default 3) of the same endpoint's p99 in the
/// baseline phase (the timeline's first). Every request sent counts, failures and
/// timeouts included (one that got no byte counts its whole time), so that a request the
/// router held until it failed cannot vanish from the figure. Endpoints are judged apart
/// because a mix of fast and slow ones has a p99 that says little about either. A
/// baseline p99 counts as at least 5 ms, below which loopback jitter is noise.
public struct LatencyBudget: Check {
    public let name = "LatencyBudget"
    public let parameters: Set<String> = ["factor", "phases"]
    public init() {}

    static let settleUs: UInt32 = 2_000_000
    static let floorUs: UInt32 = 5_000
    static let minimumBaseline = 50
    static let minimumDuring = 10

    public struct Evidence: CheckEvidence {
        public struct Endpoint: Encodable, Sendable {
            public var endpoint: String
            public var baselineP99Ms: Double
            public var baselineRequests: Int
            public var duringActionsP99Ms: Double
            public var duringRequests: Int
            public var budgetMs: Double
        }
        public var baselinePhase: String?
        public var factor: Double
        public var actions: Int
        public var endpoints: [Endpoint]
    }

    /// Time to first byte from the intended send time; the whole time when no byte came.
    static func waited(_ record: LedgerRecord) -> UInt32 {
        let until = record.firstByteUs > 0 ? record.firstByteUs : record.doneUs
        return until >= record.intendedUs ? until - record.intendedUs : 0
    }

    public func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let factor = spec.factor ?? 3
        let windows = run.phases(named: spec.phases)
        let actions = run.actions.filter { action in
            action.accepted && action.action != .validate
                && (spec.phases.isEmpty || windows.contains { action.calledUs >= $0.openedUs && action.calledUs < $0.closedUs })
        }
        guard let baseline = run.phases.first else {
            return .inconclusive(
                name, "the timeline has no phase to serve as baseline", Evidence(baselinePhase: nil, factor: factor, actions: actions.count, endpoints: []))
        }
        let baseRecords = run.records(in: [baseline]).filter { $0.outcome != .notSent }
        let duringRecords = run.records.filter { record in
            record.outcome != .notSent && actions.contains { record.sentUs >= $0.calledUs && record.sentUs < $0.returnedUs &+ Self.settleUs }
        }
        var rows: [Evidence.Endpoint] = []
        var over: [String] = []
        for endpoint in Endpoint.allCases {
            let base = baseRecords.filter { $0.endpoint == endpoint }.map(Self.waited)
            let during = duringRecords.filter { $0.endpoint == endpoint }.map(Self.waited)
            guard base.count >= Self.minimumBaseline, during.count >= Self.minimumDuring else { continue }
            let baseP99 = Percentile.of(base, 0.99)!
            let duringP99 = Percentile.of(during, 0.99)!
            let budget = Double(max(baseP99, Self.floorUs)) * factor
            rows.append(
                Evidence.Endpoint(
                    endpoint: endpoint.name, baselineP99Ms: Double(baseP99) / 1000, baselineRequests: base.count, duringActionsP99Ms: Double(duringP99) / 1000,
                    duringRequests: during.count, budgetMs: budget / 1000))
            if Double(duringP99) > budget {
                over.append("\(endpoint.name): p99 \(Double(duringP99) / 1000) ms during actions against a budget of \(budget / 1000) ms")
            }
        }
        let evidence = Evidence(baselinePhase: baseline.name, factor: factor, actions: actions.count, endpoints: rows)
        guard !actions.isEmpty, !rows.isEmpty else {
            return .inconclusive(
                name, "not enough traffic in the baseline phase (\(baseRecords.count)) or during \(actions.count) actions (\(duringRecords.count)) to compare",
                evidence)
        }
        return CheckResult(
            name: name, status: over.isEmpty ? .pass : .fail,
            summary: over.isEmpty
                ? "p99 time to first byte during \(actions.count) actions within \(factor) × baseline '\(baseline.name)' for \(rows.count) endpoints (floor 5 ms)"
                : over.joined(separator: "; ") + " (\(factor) × baseline '\(baseline.name)', floor 5 ms)",
            evidence: evidence)
    }
}
