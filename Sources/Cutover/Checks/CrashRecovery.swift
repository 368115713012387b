import ConfigInput

/// A router killed with requests in flight (SIGKILL to its processes, the `crash` action)
/// serves again soon, with what it lost bounded to the crash. From the kill to the first
/// answer an upstream gave a request sent after it (the router serving again, per the
/// upstreams' evidence, never its word): within `max` (default 2 s). What it lost is
/// counted, exactly what ZeroDropped leaves out (`ReconciledRun.metCrash`): the requests in
/// flight at the kill, and those sent before the harness's call to start it again returned
/// (refused while no process listened: the supervisor's doing, which only a listening
/// socket held across the crash avoids). Everything sent later is ZeroDropped's, and the
/// weights StateSurvivesRestart's.
package struct CrashRecovery: RunCheck {
    package let id = CheckID.crashRecovery
    package let parameters: Set<String> = ["max"]
    package init() {}

    static let defaultBound: Duration = .seconds(2)

    package struct Evidence: CheckEvidence {
        package struct Crash: Encodable, Sendable {
            package var atMs: Double
            /// From the kill to the first answer to a request sent after it.
            package var servedAgainAfterMs: Double?
            /// Requests sent before the kill and not ended by it.
            package var inFlightAtKill: Int
            /// Of those, the ones the crash lost (dropped).
            package var lostInFlight: Int
            /// Requests sent after the kill, before the call that started it again returned, that were dropped.
            package var lostWhileDown: Int
            package var problem: String?
        }
        package var boundMs: Double
        package var crashes: [Crash]
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let bound = spec.max ?? Self.defaultBound
        let crashes = run.actions.filter { $0.action == .crash }
        var rows: [Evidence.Crash] = []
        var problems: [String] = []
        for crash in crashes {
            let label = "crash at \(Double(crash.calledUs) / 1e6)s"
            let kill = crash.calledUs
            let served = run.records.filter { $0.sentUs >= kill && ($0.outcome == .ok || $0.outcome == .upstreamFault) && run.answer($0.seq) != nil }
            let back = served.map(\.routedByUs).min()
            let inFlight = run.records.filter { $0.outcome != .notSent && $0.sentUs < kill && ($0.doneUs == 0 || $0.doneUs > kill) }
            let lostInFlight = inFlight.filter { $0.outcome.isDropped }.count
            let lostWhileDown = run.records.filter { $0.sentUs >= kill && $0.outcome.isDropped && run.metCrash($0, [(kill, crash.returnedUs)]) }.count
            var problem: String?
            if !crash.accepted {
                problem = "\(label): the router was not started again: \(crash.detail.prefix(200))"
            } else if let back {
                let tookUs = UInt64(back &- kill)
                if tookUs > bound.microseconds {
                    problem = "\(label): served again only \(Double(tookUs) / 1e6) s after the kill (bound \(DurationText.format(bound)))"
                }
            } else {
                problem = "\(label): no request sent after the kill was answered"
            }
            if let problem { problems.append(problem) }
            rows.append(
                Evidence.Crash(
                    atMs: Double(kill) / 1000, servedAgainAfterMs: back.map { Double($0 &- kill) / 1000 }, inFlightAtKill: inFlight.count,
                    lostInFlight: lostInFlight, lostWhileDown: lostWhileDown, problem: problem))
        }
        let evidence = Evidence(boundMs: Double(bound.microseconds) / 1000, crashes: rows)
        guard !crashes.isEmpty else { return .inconclusive(name, "no crash in the run", evidence) }
        let summary = rows.map { row in
            "crash at \(row.atMs / 1000)s: served again after \(row.servedAgainAfterMs.map { "\($0) ms" } ?? "never"); lost \(row.lostInFlight) of \(row.inFlightAtKill) in flight and \(row.lostWhileDown) sent while down"
        }.joined(separator: "; ")
        return CheckResult(
            name: name, status: problems.isEmpty ? .pass : .fail,
            summary: (problems.isEmpty ? summary : problems.joined(separator: "; ")) + "; bound \(DurationText.format(bound))", evidence: evidence)
    }
}

extension CrashRecovery.Evidence {
    package var offendingRequests: [String] { crashes.compactMap(\.problem) }
}
