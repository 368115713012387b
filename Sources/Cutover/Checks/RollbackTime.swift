import ConfigInput

/// How fast a rollback takes effect: from the rollback call returning to the send time of
/// the last request green served (per its ledger) that was sent after it; within the
/// bound (default 1s). A rollback that took too long while the machine itself stalled
/// (the control path or the generator slower than a quarter of the bound) is
/// inconclusive: a slow machine can delay a router that applies weights in the background.
package struct RollbackTime: Check {
    package let name = "RollbackTime"
    package let parameters: Set<String> = ["max"]
    package init() {}

    package struct Evidence: CheckEvidence {
        package struct Rollback: Encodable, Sendable {
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
            let after = run.records.filter { $0.outcome != .notSent && $0.sentUs > rollback.returnedUs && $0.routedByUs < until }
            let lastGreen = after.filter { $0.servedBy == .green }.max { $0.sentUs < $1.sentUs }
            let elapsed = lastGreen.map { UInt64($0.sentUs - rollback.returnedUs) } ?? 0
            let machine =
                elapsed > boundUs
                ? run.machine.noise(fromUs: rollback.returnedUs, toUs: rollback.returnedUs &+ UInt32(elapsed), boundUs: UInt32(boundUs / 4)) : nil
            if let machine, machine.noisy {
                noisy = true
            } else {
                worst = max(worst, elapsed)
            }
            rows.append(
                Evidence.Rollback(
                    returnedMs: Double(rollback.returnedUs) / 1000, requestsAfter: after.count, rollbackTimeMs: Double(elapsed) / 1000,
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
            summary: "slowest rollback: green served a request sent \(Double(worst) / 1000) ms after the call returned (bound \(DurationText.format(bound)))",
            evidence: evidence)
    }
}
