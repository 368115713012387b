import HTTPServerCore

/// Per steady phase, the share of sessions green served matches green's weight: an exact
/// two-sided binomial test on session keys (a session is one trial, since stickiness
/// makes its requests one decision), failing when p < alpha (default 0.001).
public struct SplitAccuracy: Check {
    public let name = "SplitAccuracy"
    public init() {}

    public func evaluate(_ history: RunHistory, _ spec: CheckSpec) -> CheckResult {
        let alpha = spec.alpha ?? 0.001
        var rows: [JSON] = []
        var failures: [String] = []
        for phase in history.phases(named: spec.phases) {
            let map = SessionMap(history.routedRecords(in: [phase]))
            let decided = map.served.keys.compactMap { map.environment($0) }
            let green = decided.filter { $0 == .green }.count
            let p = Double(phase.greenWeight) / 100
            let pValue = BinomialTest.pValue(successes: green, trials: decided.count, probability: p)
            let share = decided.isEmpty ? 0 : Double(green) / Double(decided.count)
            rows.append(
                .object([
                    ("phase", .string(phase.name)), ("sessions", .int(decided.count)), ("green_sessions", .int(green)),
                    ("expected_share", .double(p)), ("observed_share", .double((share * 10_000).rounded() / 10_000)), ("p_value", .double(pValue)),
                ]))
            if decided.count > 0, pValue < alpha {
                failures.append(
                    "\(phase.name): \(green)/\(decided.count) green (\(Int((share * 1000).rounded()) / 10) % vs \(phase.greenWeight) %), p = \(pValue)")
            }
        }
        guard !rows.isEmpty else {
            return CheckResult(name: name, status: .skipped, summary: "no phase to test", evidence: .object([("phases", .array([]))]))
        }
        return CheckResult(
            name: name, status: failures.isEmpty ? .pass : .fail,
            summary: failures.isEmpty
                ? "green's session share matches its weight in \(rows.count) phases (two-sided binomial test, alpha \(alpha))"
                : "share off the weight: " + failures.joined(separator: "; "),
            evidence: .object([("alpha", .double(alpha)), ("phases", .array(rows))]))
    }
}
