import ConfigInput

/// An environment at weight 0 executes nothing once the switch took effect: after a
/// rollback green executes no request sent later (nor a copy of one, nor anything no
/// request of the run accounts for), after a promote blue none. A switch takes effect by
/// the time its call returned, and at most `max` (default 1 s) after the call: a router
/// whose call blocks while the old weight still routes is timed from the call. Who
/// executed is what the upstream ledgers say; the router's health probes are not traffic.
package struct ZeroWeightIsolation: RunCheck {
    package let id = CheckID.zeroWeightIsolation
    package let parameters: Set<String> = ["max"]
    package init() {}

    package struct Evidence: CheckEvidence {
        package var switches: Int
        package var boundMs: Double
        package var requestsAfter: Int
        package var leaked: Int
        package var examples: [String]
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let bound = spec.max ?? .seconds(1)
        var checked = 0
        var leaks: [String] = []
        let switches = run.weightChanges.filter { $0.to == 0 || $0.to == 100 }
        for (number, change) in switches.enumerated() {
            let isolated: ServedBy = change.to == 0 ? .green : .blue
            let effective = min(change.returnedUs, change.calledUs &+ UInt32(clamping: bound.microseconds))
            // Until the next change, the isolated environment must execute nothing new; a
            // request still being routed when that change was called may follow either.
            let until = run.weightChanges.nextCall(after: change.returnedUs)
            let label = "\(change.action.label) #\(number + 1) (called at \(Double(change.calledUs) / 1e6)s)"
            checked += run.records.filter { $0.outcome != .notSent && $0.sentUs > effective && $0.routedByUs < until }.count
            let executed = run.executions(on: isolated) { entry in
                let at = run.runMicros(ofArrival: entry)
                return at > Double(effective) && at < Double(until)
            }
            for execution in executed {
                switch execution.attribution {
                case .request(let index):
                    let record = run.records[index]
                    guard record.sentUs > effective, record.routedByUs < until else { continue }
                    let copy = execution.entry.requestID == run.requestID(record) ? "" : " (a copy, as \(execution.entry.requestID))"
                    leaks.append(
                        "\(run.requestID(record)) after \(label): sent \(Double(record.sentUs - change.calledUs) / 1000) ms after the call, executed by \(isolated.name)\(copy)"
                    )
                case .unattributed, .stray, .probe:
                    leaks.append(
                        "\(execution.entry.requestID) after \(label): \(execution.entry.method) \(execution.entry.path) executed by \(isolated.name) \(String(format: "%.1f", (run.runMicros(ofArrival: execution.entry) - Double(change.calledUs)) / 1000)) ms after the call, no request of the run accounts for it"
                    )
                }
            }
        }
        let evidence = Evidence(
            switches: switches.count, boundMs: Double(bound.microseconds) / 1000, requestsAfter: checked, leaked: leaks.count, examples: leaks.sample)
        guard !switches.isEmpty else { return .inconclusive(name, "no accepted switch to weight 0 or 100 in the run", evidence) }
        guard checked > 0 else { return .inconclusive(name, "no request was sent after a switch to weight 0 or 100", evidence) }
        return CheckResult(
            name: name, status: leaks.isEmpty ? .pass : .fail,
            summary:
                "\(leaks.count) executions on the environment at weight 0 after a switch took effect (its return, at most \(DurationText.format(bound)) after its call), of \(checked) requests sent meanwhile; bound 0",
            evidence: evidence)
    }
}

extension ZeroWeightIsolation.Evidence {
    package var offendingRequests: [String] { examples }
}
