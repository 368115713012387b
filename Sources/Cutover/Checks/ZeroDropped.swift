/// No dropped request (router-error or transport, as reconciled with the upstreams) in
/// the checked phases' stretches, switch moments included (the whole run when the suite
/// names none).
package struct ZeroDropped: Check {
    package let name = "ZeroDropped"
    package let parameters: Set<String> = ["phases"]
    package init() {}

    package struct Evidence: CheckEvidence {
        package var requests: Int
        package var dropped: Int
        package var routerError: Int
        package var transport: Int
        /// Dropped requests that libcurl had sent more than once (the harness's replay
        /// after a reused connection died): shown, since the router still lost the first.
        package var replayedByHarness: Int
        /// The first dropped requests: id, outcome, status, curl error, environment.
        package var requestIDs: [String]
        package var examples: [String]
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let records = spec.phases.isEmpty ? run.records.filter { $0.outcome != .notSent } : run.records(in: run.phases(named: spec.phases))
        let dropped = records.filter(\.outcome.isDropped)
        let routerErrors = dropped.filter { $0.outcome == .routerError }.count
        let evidence = Evidence(
            requests: records.count, dropped: dropped.count, routerError: routerErrors, transport: dropped.count - routerErrors,
            replayedByHarness: dropped.filter { $0.attempts > 1 }.count, requestIDs: dropped.prefix(CheckResult.sampleLimit).map(run.requestID),
            examples: dropped.prefix(CheckResult.sampleLimit).map { record in
                "\(run.requestID(record)) \(record.endpoint.name): \(record.outcome.name), status \(record.status)"
                    + (record.curlCode != 0 ? ", curl error \(record.curlCode)" : "") + ", \(record.bytes) bytes"
                    + (run.answer(record.seq).map { ", upstream \($0.env.name) sent \($0.entry.status.map(String.init) ?? "no status") with \($0.entry.bytes) bytes" }
                        ?? ", no upstream execution")
            })
        guard !records.isEmpty else {
            return .inconclusive(name, "no request was sent in the checked phases", evidence)
        }
        return CheckResult(
            name: name, status: dropped.isEmpty ? .pass : .fail,
            summary:
                "\(dropped.count) of \(records.count) requests dropped (\(routerErrors) router errors, \(dropped.count - routerErrors) transport); bound 0",
            evidence: evidence)
    }
}
