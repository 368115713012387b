/// No request executed upstream more than once, no execution the harness cannot
/// attribute, and every client `ok` executed exactly once. Every execution counts: one
/// attributed by the identity its body carries (a copy with a replaced `X-Request-ID`)
/// as much as one with the request's own id, and an execution of a request libcurl sent
/// twice as much as any other: a replay the router never forwarded leaves one execution,
/// one it forwarded twice was billed twice.
package struct NoDuplicateExecution: RunCheck {
    package let id = CheckID.noDuplicateExecution
    package let parameters: Set<String> = []
    package init() {}

    package struct Evidence: CheckEvidence {
        package var executions: Int
        /// Requests executed more than once.
        package var duplicated: Int
        package var duplicatedIDs: [String]
        /// Executions that carry no identity of the run and are not the router's health
        /// probes (a copy whose identity was replaced, a made-up request).
        package var unattributed: Int
        package var unattributedExamples: [String]
        /// The router's own health probes, told apart by their documented shape.
        package var probes: Int
        /// Requests libcurl sent more than once (its reused connection died unanswered),
        /// with how many times each was executed.
        package var replayed: Int
        package var replayedIDs: [String]
        package var okWithoutExecution: Int
        package var okWithoutExecutionIDs: [String]
        package var evidenceGaps: [String]
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        var duplicated: [String] = []
        var replays: [String] = []
        var missing: [String] = []
        var executed = 0
        var okCount = 0
        for record in run.records where record.outcome != .notSent {
            let count = run.executionCount(record.seq)
            executed += count
            if count > 1 {
                let places = run.executions(record.seq).map { execution in
                    execution.entry.requestID == run.requestID(record) ? execution.env.name : "\(execution.env.name) as \(execution.entry.requestID)"
                }
                duplicated.append("\(run.requestID(record)) (\(count) executions: \(places.joined(separator: ", ")); \(record.attempts) sent by the client)")
            }
            if record.attempts > 1 { replays.append("\(run.requestID(record)) (sent \(record.attempts) times, executed \(count))") }
            if record.outcome == .ok {
                okCount += 1
                // A model list may be the router's own answer (a gateway such as LiteLLM lists its models itself).
                if count == 0, record.endpoint != .models { missing.append(run.requestID(record)) }
            }
        }
        duplicated += run.strays.filter { $0.value > 1 }.keys.sorted().map { "\(run.runID)-\($0) (\(run.strays[$0]!) executions of an id past the schedule)" }
        var unattributed: [String] = []
        for env in [ServedBy.blue, .green] {
            unattributed += run.unattributed(on: env).map { entry in
                "\(entry.requestID) on \(env.name): \(entry.method) \(entry.path)" + (entry.model.map { " \($0)" } ?? "")
                    + " at \(String(format: "%.3f", run.runMicros(ofArrival: entry) / 1e6))s"
            }
        }
        let evidence = Evidence(
            executions: executed + unattributed.count, duplicated: duplicated.count, duplicatedIDs: duplicated.sample, unattributed: unattributed.count,
            unattributedExamples: unattributed.sample, probes: run.probeCount(on: .blue) + run.probeCount(on: .green), replayed: replays.count,
            replayedIDs: replays.sample, okWithoutExecution: missing.count, okWithoutExecutionIDs: missing.sample, evidenceGaps: run.evidenceGaps)
        if !duplicated.isEmpty || !missing.isEmpty || !unattributed.isEmpty {
            return CheckResult(
                name: name, status: .fail,
                summary:
                    "\(duplicated.count) requests executed more than once; \(unattributed.count) executions no request of the run accounts for; \(missing.count) of \(okCount) ok responses with no upstream execution; bound 0",
                evidence: evidence)
        }
        if !run.evidenceGaps.isEmpty {
            return .inconclusive(name, "the upstream evidence is incomplete: " + run.evidenceGaps.joined(separator: "; "), evidence)
        }
        if executed == 0 { return .inconclusive(name, "no request reached an upstream", evidence) }
        return CheckResult(
            name: name, status: .pass,
            summary: "\(executed) upstream executions, each of one request once (\(replays.count) sent again by libcurl), every ok executed once",
            evidence: evidence)
    }
}

extension NoDuplicateExecution.Evidence {
    package var offendingRequests: [String] { duplicatedIDs }
}
