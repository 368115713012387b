/// Per steady phase, the share of sessions green served matches green's weight: an exact
/// two-sided binomial test on session keys, failing when p < alpha (default 0.001). A
/// session is one trial, decided by its first request in the phase: for a sticky router
/// that is every request's decision, and a router that picks per request is judged on an
/// unbiased draw too (its splitting is Stickiness's finding, not a skewed share). A phase with
/// too few sessions to test says nothing, and is inconclusive rather than a pass.
package struct SplitAccuracy: RunCheck {
    package let id = CheckID.splitAccuracy
    package let parameters: Set<String> = ["phases", "alpha"]
    package init() {}

    /// Fewer sessions than this give the test no power at the weights suites use.
    static let minimumSessions = 30
    /// At a weight strictly between 0 and 100, both sides need this many expected sessions.
    static let minimumExpected = 5.0

    package struct Evidence: CheckEvidence {
        package struct Phase: Encodable, Sendable {
            package var phase: String
            package var sessions: Int
            package var greenSessions: Int
            package var expectedShare: Double
            package var observedShare: Double
            package var pValue: Double
            /// False when the sample was too small to test.
            package var judged: Bool
        }
        package var alpha: Double
        package var phases: [Phase]
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let alpha = spec.alpha ?? 0.001
        var rows: [Evidence.Phase] = []
        var failures: [String] = []
        var small: [String] = []
        for phase in run.phases(named: spec.phases) {
            var first: [UInt32: LedgerRecord] = [:]
            for record in run.routedRecords(in: [phase]) where record.servedBy != .unknown {
                if let seen = first[record.session], seen.sentUs <= record.sentUs { continue }
                first[record.session] = record
            }
            let decided = first.values.map(\.servedBy)
            let green = decided.filter { $0 == .green }.count
            let p = Double(phase.greenWeight) / 100
            let n = Double(decided.count)
            let enough = decided.count >= Self.minimumSessions && (p == 0 || p == 1 || min(n * p, n * (1 - p)) >= Self.minimumExpected)
            let pValue = BinomialTest.pValue(successes: green, trials: decided.count, probability: p)
            let share = decided.isEmpty ? 0 : Double(green) / n
            rows.append(
                Evidence.Phase(
                    phase: phase.name, sessions: decided.count, greenSessions: green, expectedShare: p, observedShare: (share * 10_000).rounded() / 10_000,
                    pValue: pValue, judged: enough))
            if !enough {
                small.append("\(phase.name): \(decided.count) sessions")
            } else if pValue < alpha {
                failures.append(
                    "\(phase.name): \(green)/\(decided.count) green (\(Int((share * 1000).rounded()) / 10) % vs \(phase.greenWeight) %), p = \(pValue)")
            }
        }
        let evidence = Evidence(alpha: alpha, phases: rows)
        if !failures.isEmpty {
            return CheckResult(name: name, status: .fail, summary: "share off the weight: " + failures.joined(separator: "; "), evidence: evidence)
        }
        // Named phases must each be judged; of all phases, at least one must be.
        let judged = rows.filter(\.judged).count
        if rows.isEmpty || (!spec.phases.isEmpty && !small.isEmpty) || judged == 0 {
            return .inconclusive(name, "too few sessions to test the split (\(small.isEmpty ? "no phase" : small.joined(separator: ", ")))", evidence)
        }
        return CheckResult(
            name: name, status: .pass,
            summary: "green's session share matches its weight in \(judged) phases (two-sided binomial test, alpha \(alpha))"
                + (small.isEmpty ? "" : "; too small to test: \(small.joined(separator: ", "))"),
            evidence: evidence)
    }
}
