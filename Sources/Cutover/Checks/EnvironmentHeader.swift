/// The router's `X-Environment` header names the environment whose ledger holds the
/// execution: the router's word against the upstreams' evidence. Routing checks never
/// trust the header; this check reports when it lies. A router that sends no such
/// header is skipped (the feature is not offered), not passed.
package struct EnvironmentHeader: RunCheck {
    package let id = CheckID.environmentHeader
    package let parameters: Set<String> = []
    package init() {}

    package struct Evidence: CheckEvidence {
        /// Requests that carried the header and were executed upstream.
        package var compared: Int
        package var disagreed: Int
        package var examples: [String]
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let compared = run.records.filter { $0.routerHeader != .unknown && $0.servedBy != .unknown }.count
        let examples = run.headerDisagreements.prefix(CheckResult.sampleLimit).map { index in
            let record = run.records[Int(index)]
            return "\(run.requestID(record)): header said \(record.routerHeader.name), \(record.servedBy.name)'s ledger executed it"
        }
        let evidence = Evidence(compared: compared, disagreed: run.headerDisagreements.count, examples: examples)
        guard compared > 0 else {
            return CheckResult(name: name, status: .skipped, summary: "the router sent no X-Environment header on an executed request", evidence: evidence)
        }
        return CheckResult(
            name: name, status: run.headerDisagreements.isEmpty ? .pass : .fail,
            summary:
                "\(run.headerDisagreements.count) of \(compared) X-Environment headers named another environment than the one that executed the request; bound 0",
            evidence: evidence)
    }
}

extension EnvironmentHeader.Evidence {
    package var offendingRequests: [String] { examples }
}
