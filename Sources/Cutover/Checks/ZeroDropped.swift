/// No dropped request (router-error or transport, as reconciled with the upstreams) in
/// the checked phases' stretches, switch moments included (the whole run when the suite
/// names none). A 2xx is dropped when it is not the upstream's answer to this very
/// request (another request's, a made-up one, an altered or short one), and a POST whose
/// first attempt the router closed unanswered is dropped whatever libcurl's replay got.
/// Slots the router held back (every transfer slot waiting on it while the machine was
/// quiet) are dropped too: no client could send them. What a `crash` lost (in flight at
/// the kill, or sent before the router's call to start again returned) is CrashRecovery's,
/// counted here apart.
package struct ZeroDropped: RunCheck {
    package let id = CheckID.zeroDropped
    package let parameters: Set<String> = ["phases"]
    package init() {}

    package struct Evidence: CheckEvidence {
        package var requests: Int
        package var dropped: Int
        package var routerError: Int
        package var transport: Int
        /// Dropped 2xx answers by what reconciliation found (`ExchangeFinding`).
        package var anotherRequestsAnswer = 0
        package var noUpstreamExecution = 0
        package var alteredAnswer = 0
        /// POSTs whose first attempt the router closed unanswered (libcurl sent them again).
        package var firstAttemptUnanswered = 0
        /// GETs libcurl sent again for the same reason: a client may, so they are not dropped.
        package var replayedGets = 0
        /// Slots never sent because the router held every transfer slot.
        package var heldBack = 0
        /// Dropped with no upstream execution while an upstream closed idle connections
        /// (idle-close): the keep-alive race, lost by the router.
        package var duringIdleClose = 0
        /// Lost to a crash (CrashRecovery's): not counted in `dropped`.
        package var lostToCrash = 0
        /// The first dropped requests: id, outcome, status, curl error, environment.
        package var requestIDs: [String]
        package var examples: [String]
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let windows = run.phases(named: spec.phases)
        let inScope: (LedgerRecord) -> Bool = { record in spec.phases.isEmpty || windows.contains { $0.contains(record) } }
        let crashes = run.crashSpans
        var judged = 0
        var dropped: [LedgerRecord] = []
        var lostToCrash = 0
        for record in run.records where record.outcome != .notSent && inScope(record) {
            judged += 1
            guard record.outcome.isDropped else { continue }
            if run.metCrash(record, crashes) {
                lostToCrash += 1
            } else {
                dropped.append(record)
            }
        }
        let held = run.backPressure.routerDropped.map { run.records[$0] }.filter(inScope)
        let routerErrors = dropped.filter { $0.outcome == .routerError }.count
        var byFinding: [ExchangeFinding: Int] = [:]
        for (index, finding) in run.findings where run.records[index].outcome != .notSent && inScope(run.records[index]) {
            byFinding[finding, default: 0] += 1
        }
        func count(_ finding: ExchangeFinding) -> Int { byFinding[finding, default: 0] }
        let examples =
            dropped.prefix(CheckResult.sampleLimit).map { record in
                "\(run.requestID(record)) \(record.endpoint.name): \(record.outcome.name)" + (run.finding(record.seq).map { " (\($0.text))" } ?? "")
                    + ", status \(record.status)" + (record.curlCode != 0 ? ", curl error \(record.curlCode)" : "") + ", \(record.bytes) bytes"
                    + (run.answer(record.seq).map {
                        ", upstream \($0.env.name) sent \($0.entry.status.map(String.init) ?? "no status") with \($0.entry.bytes) bytes"
                    }
                        ?? ", no upstream execution")
                    + (record.attempts > 1
                        ? "; earlier attempts: " + (run.ledger.earlierAttempts[record.seq] ?? []).map(\.description).joined(separator: "; ") : "")
            }
            + held.prefix(max(0, CheckResult.sampleLimit - dropped.count)).map { record in
                "\(run.requestID(record)) \(record.endpoint.name): never sent, due at \(Double(record.intendedUs) / 1e6)s while every transfer slot waited on the router"
            }
        // Drops no upstream saw while an upstream was closing idle connections: what the
        // report can say about them (they stay the router's: it reused a closed connection).
        let idleCloses = run.faults.filter { if case .idleClose = $0.fault.kind { true } else { false } }
        let raced = dropped.filter { record in run.answer(record.seq) == nil && idleCloses.contains { $0.covers(record.sentUs) } }.count
        let evidence = Evidence(
            requests: judged + held.count, dropped: dropped.count + held.count, routerError: routerErrors, transport: dropped.count - routerErrors,
            anotherRequestsAnswer: count(.anotherRequestsAnswer), noUpstreamExecution: count(.noUpstreamExecution), alteredAnswer: count(.alteredAnswer),
            firstAttemptUnanswered: count(.firstAttemptUnanswered), replayedGets: count(.replayedGet), heldBack: held.count, duringIdleClose: raced,
            lostToCrash: lostToCrash,
            requestIDs: (dropped + held).prefix(CheckResult.sampleLimit).map(run.requestID), examples: examples)
        guard judged > 0 || !held.isEmpty else {
            return .inconclusive(name, "no request was sent in the checked phases", evidence)
        }
        let total = dropped.count + held.count
        var summary = "\(total) of \(judged + held.count) requests dropped (\(routerErrors) router errors, \(dropped.count - routerErrors) transport"
        if !held.isEmpty { summary += ", \(held.count) held back by the router" }
        summary += "); bound 0"
        if lostToCrash > 0 { summary += "; \(lostToCrash) more lost to a crash (CrashRecovery's)" }
        if raced > 0 {
            summary +=
                "; \(raced) reached no upstream while the upstreams closed idle connections: the keep-alive race (the router sent them on connections the upstream had closed; an upstream idle timeout shorter than the upstream's avoids it)"
        }
        return CheckResult(name: name, status: total == 0 ? .pass : .fail, summary: summary, evidence: evidence)
    }
}

extension ZeroDropped.Evidence {
    package var offendingRequests: [String] { examples.isEmpty ? requestIDs : examples }
}
