/// A canary asked for while green is unhealthy (an outage or 5xx on every request was
/// injected) is refused, green's weight stays where it was, and green serves nothing
/// (per its own ledger) until a later weight change is accepted. Not applicable (skipped,
/// never passed) when the router has no gate of its own: a refusal would be the harness's.
package struct HealthGate: RunCheck {
    package let id = CheckID.healthGate
    package let parameters: Set<String> = []
    package init() {}

    package struct Evidence: CheckEvidence {
        package var gatedCanaries: Int
        package var greenServedWhileGated: Int
        package var problems: [String]
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        if case .none(let reason) = run.gate {
            return CheckResult(
                name: name, status: .skipped, summary: "not applicable: the router has no health gate of its own (\(reason))",
                evidence: Evidence(gatedCanaries: 0, greenServedWhileGated: 0, problems: []))
        }
        var gated = 0
        var problems: [String] = []
        var weightBefore = 0
        var servedAfter = 0
        for action in run.actions {
            defer { if let weight = action.greenWeight { weightBefore = weight } }
            guard action.action.isCanary else { continue }
            guard let fault = run.faults.first(where: { $0.target == .green && $0.makesUnhealthy && $0.covers(action.calledUs) }) else { continue }
            gated += 1
            let label = "\(action.action.label) at \(Double(action.calledUs) / 1e6)s while green had \(fault.fault.kind.name) (\(fault.id))"
            if action.accepted { problems.append("\(label) was accepted: \(action.detail.prefix(200))") }
            if let after = run.reportedWeights(action)?.after, after != weightBefore {
                problems.append("\(label): green's weight became \(after) % (was \(weightBefore) %)")
            }
            guard weightBefore == 0 else { continue }
            let until = run.weightChanges.nextCall(after: action.returnedUs)
            let executed = run.executions(on: .green) {
                let at = run.runMicros(ofArrival: $0)
                return at >= Double(action.calledUs) && at < Double(until)
            }
            // Two views of one fact: requests sent meanwhile that green's ledger answered,
            // and green's executions that arrived meanwhile.
            let served = run.records.filter { $0.servedBy == .green && $0.sentUs >= action.calledUs && $0.routedByUs < until }
            servedAfter += max(served.count, executed.count)
            if !served.isEmpty || !executed.isEmpty {
                let first = (served.prefix(3).map(run.requestID) + executed.prefix(3).map(\.entry.requestID)).prefix(3)
                problems.append("\(label): green then served \(max(served.count, executed.count)) requests, first \(first.joined(separator: ", "))")
            }
        }
        let evidence = Evidence(gatedCanaries: gated, greenServedWhileGated: servedAfter, problems: problems.sample)
        guard gated > 0 else { return .inconclusive(name, "no canary was asked for while green was unhealthy", evidence) }
        return CheckResult(
            name: name, status: problems.isEmpty ? .pass : .fail,
            summary: "\(gated) canaries asked for while green was unhealthy; \(problems.count) problems (accepted, weight moved, or green served); bound 0",
            evidence: evidence)
    }
}

extension HealthGate.Evidence {
    package var offendingRequests: [String] { problems }
}
