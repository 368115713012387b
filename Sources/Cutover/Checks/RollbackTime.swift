import ConfigInput

/// How fast a rollback takes effect: from the harness's rollback call to the send time of
/// the last request sent after it that green executed (per its ledger); within the bound
/// (default 1s). Timed from the call, not its return, so a rollback whose call blocks
/// while green still serves is as slow as it is. A rollback that took too long while the
/// machine itself stalled (the control path or the generator slower than a quarter of the
/// bound) is inconclusive: a slow machine can delay a router that applies weights in the
/// background.
package struct RollbackTime: RunCheck {
    package let id = CheckID.rollbackTime
    package let parameters: Set<String> = ["max"]
    package init() {}

    package struct Evidence: CheckEvidence {
        package struct Rollback: Encodable, Sendable {
            package var calledMs: Double
            package var returnedMs: Double
            package var requestsAfter: Int
            package var rollbackTimeMs: Double
            package var lastGreenRequest: String?
            /// The machine from the return to that last green request (when over the bound).
            package var machine: MachineNoise?
        }
        package var boundMs: Double
        package var rollbacks: [Rollback]
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let bound = spec.max ?? .seconds(1)
        let boundUs = bound.microseconds
        var worst: UInt64 = 0
        var rows: [Evidence.Rollback] = []
        var noisy = false
        for rollback in run.weightChanges where rollback.action == .rollback {
            let until = run.weightChanges.nextCall(after: rollback.returnedUs)
            let after = run.records.filter { $0.outcome != .notSent && $0.sentUs > rollback.calledUs && $0.routedByUs < until }
            // Green's executions of them, copies included, not only the answers the client got.
            let lastGreen = after.filter { record in
                record.servedBy == .green || (run.executionCount(record.seq) > 1 && run.executions(record.seq).contains { $0.env == .green })
            }
            .max { $0.sentUs < $1.sentUs }
            let elapsed = lastGreen.map { UInt64($0.sentUs - rollback.calledUs) } ?? 0
            let machine =
                elapsed > boundUs
                ? run.machine.noise(fromUs: rollback.calledUs, toUs: rollback.calledUs &+ UInt32(elapsed), boundUs: UInt32(boundUs / 4)) : nil
            if let machine, machine.noisy {
                noisy = true
            } else {
                worst = max(worst, elapsed)
            }
            rows.append(
                Evidence.Rollback(
                    calledMs: Double(rollback.calledUs) / 1000, returnedMs: Double(rollback.returnedUs) / 1000, requestsAfter: after.count,
                    rollbackTimeMs: Double(elapsed) / 1000,
                    lastGreenRequest: lastGreen.map(run.requestID), machine: machine))
        }
        let evidence = Evidence(boundMs: Double(boundUs) / 1000, rollbacks: rows)
        guard !rows.isEmpty else { return .inconclusive(name, "no accepted rollback in the run", evidence) }
        guard rows.allSatisfy({ $0.requestsAfter > 0 }) else { return .inconclusive(name, "no request was sent after a rollback", evidence) }
        if worst <= boundUs, noisy {
            let reasons = rows.compactMap { $0.machine?.reason }
            return .inconclusive(name, "a rollback took longer than the bound while the machine was slow: " + reasons.joined(separator: "; "), evidence)
        }
        return CheckResult(
            name: name, status: worst <= boundUs ? .pass : .fail,
            summary:
                "slowest rollback: green executed a request sent \(Double(worst) / 1000) ms after the rollback was called (bound \(DurationText.format(bound)))",
            evidence: evidence)
    }
}
