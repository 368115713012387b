/// A session keeps its environment while the weights are unchanged: within each steady
/// phase, no session key was served (per the upstream ledgers) by both environments.
package struct Stickiness: RunCheck {
    package let id = CheckID.stickiness
    package let parameters: Set<String> = ["phases"]
    package init() {}

    /// A phase in which fewer sessions came back than this says little about stickiness.
    static let minimumRepeatedSessions = 10

    package struct Evidence: CheckEvidence {
        package var sessions: Int
        /// Sessions seen more than once inside one phase: the ones that could have split.
        package var repeatedSessions: Int
        package var splitSessions: Int
        package var examples: [String]
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        var sessions = 0
        var repeated = 0
        var split: [String] = []
        for phase in run.phases(named: spec.phases) {
            let routed = run.routedRecords(in: [phase]).filter { $0.servedBy != .unknown }
            let map = SessionMap(routed)
            sessions += map.served.count
            var seen: [UInt32: Int] = [:]
            for record in routed { seen[record.session, default: 0] += 1 }
            repeated += seen.values.filter { $0 > 1 }.count
            // Each example names the session's first request on either side.
            let splitSessions = Set(map.split)
            var first: [UInt32: [ServedBy: LedgerRecord]] = [:]
            for record in routed where splitSessions.contains(record.session) && first[record.session]?[record.servedBy] == nil {
                first[record.session, default: [:]][record.servedBy] = record
            }
            split += map.split.map { session in
                let sides = [ServedBy.blue, .green].compactMap { env in first[session]?[env].map { "\(env.name) \(run.requestID($0))" } }
                return "\(phase.name): s\(session) (" + sides.joined(separator: ", ") + ")"
            }
        }
        let evidence = Evidence(sessions: sessions, repeatedSessions: repeated, splitSessions: split.count, examples: split.sample)
        if split.isEmpty, repeated < Self.minimumRepeatedSessions {
            return .inconclusive(name, "only \(repeated) sessions came back within a phase: too few to judge stickiness", evidence)
        }
        return CheckResult(
            name: name, status: split.isEmpty ? .pass : .fail,
            summary: "\(split.count) of \(repeated) returning sessions served by both environments within a phase; bound 0", evidence: evidence)
    }
}

extension Stickiness.Evidence {
    package var offendingRequests: [String] { examples }
}
