/// An environment at weight 0 serves nothing that was sent after the switch returned:
/// after a rollback green serves no new request, after a promote blue serves none.
/// Who served is what the upstream ledgers say.
package struct ZeroWeightIsolation: Check {
    package let name = "ZeroWeightIsolation"
    package let parameters: Set<String> = []
    package init() {}

    package struct Evidence: CheckEvidence {
        package var switches: Int
        package var requestsAfter: Int
        package var leaked: Int
        package var examples: [String]
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        var checked = 0
        var leaks: [String] = []
        let switches = run.weightChanges.filter { $0.to == 0 || $0.to == 100 }
        for (index, change) in switches.enumerated() {
            let isolated: ServedBy = change.to == 0 ? .green : .blue
            // Until the next change, the isolated environment must serve nothing new; a
            // request still being routed when that change was called may follow either.
            let until = run.weightChanges.nextCall(after: change.returnedUs)
            for record in run.records where record.sentUs > change.returnedUs && record.routedByUs < until && record.outcome != .notSent {
                checked += 1
                if record.servedBy == isolated {
                    leaks.append(
                        "\(run.requestID(record)) after \(change.action.label) #\(index + 1): sent \(Double(record.sentUs - change.returnedUs) / 1000) ms after it returned, served by \(isolated.name)"
                    )
                }
            }
        }
        let evidence = Evidence(switches: switches.count, requestsAfter: checked, leaked: leaks.count, examples: leaks.sample)
        guard !switches.isEmpty else { return .inconclusive(name, "no accepted switch to weight 0 or 100 in the run", evidence) }
        guard checked > 0 else { return .inconclusive(name, "no request was sent after a switch to weight 0 or 100", evidence) }
        return CheckResult(
            name: name, status: leaks.isEmpty ? .pass : .fail,
            summary: "\(leaks.count) of \(checked) requests sent after a switch reached the environment at weight 0; bound 0", evidence: evidence)
    }
}
