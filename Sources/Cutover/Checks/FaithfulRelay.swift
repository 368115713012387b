/// Injected upstream errors reach the client unchanged: for every execution an upstream
/// answered with an injected error status, the client got that very answer, with the
/// same status, the same body (its bytes and the upstream's fault stamp; for a `semantic`
/// relay, the same OpenAI error fields), and the same `Retry-After` and `x-ratelimit-*`
/// headers.
package struct FaithfulRelay: RunCheck {
    package let id = CheckID.faithfulRelay
    package let parameters: Set<String> = ["phases"]
    package init() {}

    package struct Evidence: CheckEvidence {
        package var injected: Int
        package var altered: Int
        /// Injected errors whose headers (`Retry-After`, rate limits) were compared.
        package var withHeaders: Int
        package var examples: [String]
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let windows = run.phases(named: spec.phases)
        var injected = 0
        var withHeaders = 0
        var altered: [String] = []
        for env in [ServedBy.blue, .green] {
            let errors = run.executions(on: env) { entry in
                (entry.status ?? 0) >= 400 && entry.faults.contains { id in run.faultWindows(on: env, id: id).contains(where: \.isStatus) }
            }
            for execution in errors {
                guard case .request(let index) = execution.attribution else { continue }
                let entry = execution.entry
                let record = run.records[index]
                if !spec.phases.isEmpty, !windows.contains(where: { $0.contains(record) }) { continue }
                injected += 1
                if !entry.faultHeaders.isEmpty { withHeaders += 1 }
                var differences: [String] = []
                let answer = run.answer(record.seq)
                if answer?.env != env || answer?.entry.seq != entry.seq {
                    differences.append("the client got another answer (status \(record.status) from \(answer?.env.name ?? "no upstream"))")
                } else {
                    if Int(record.status) != entry.status { differences.append("status \(entry.status!) became \(record.status)") }
                    if run.relay == .verbatim {
                        if Int(record.bytes) != entry.bytes || record.answerDigest != entry.bodyDigest {
                            differences.append("body of \(entry.bytes) bytes became another of \(record.bytes)")
                        }
                        if record.fault == 0 { differences.append("the X-Mock-Fault stamp was lost") }
                    } else if record.answerDigest != entry.contentDigest {
                        differences.append("the error's message, type, param or code changed")
                    }
                    let got = run.ledger.errorHeaders[record.seq] ?? [:]
                    for (header, value) in entry.faultHeaders.sorted(by: { $0.key < $1.key }) where got[header] != value {
                        differences.append("\(header): \(value) became \(got[header].map { "'\($0)'" } ?? "absent")")
                    }
                }
                if !differences.isEmpty {
                    altered.append("\(entry.requestID) (\(env.name), fault \(entry.faults.joined(separator: ","))): \(differences.joined(separator: ", "))")
                }
            }
        }
        let evidence = Evidence(injected: injected, altered: altered.count, withHeaders: withHeaders, examples: altered.sample)
        guard injected > 0 else { return .inconclusive(name, "no injected upstream error reached the router in the checked phases", evidence) }
        return CheckResult(
            name: name, status: altered.isEmpty ? .pass : .fail,
            summary: "\(altered.count) of \(injected) injected upstream errors reached the client altered (status, body, stamp or headers); bound 0",
            evidence: evidence)
    }
}

extension FaithfulRelay.Evidence {
    package var offendingRequests: [String] { examples }
}
