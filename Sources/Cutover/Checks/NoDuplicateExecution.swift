/// No request executed upstream more often than the client sent it, and every client
/// `ok` executed exactly once. The client's own attempts are counted: a libcurl replay
/// after a reused connection died is the harness's, not the router's.
package struct NoDuplicateExecution: Check {
    package let name = "NoDuplicateExecution"
    package let parameters: Set<String> = []
    package init() {}

    package struct Evidence: CheckEvidence {
        package var executions: Int
        /// Requests executed more often than the client sent them: the router replayed them.
        package var duplicated: Int
        package var duplicatedIDs: [String]
        /// Requests executed twice because libcurl sent them twice (attempts > 1).
        package var harnessReplays: Int
        package var harnessReplayIDs: [String]
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
            if count > max(1, Int(record.attempts)) {
                let places = run.executions(record.seq).map(\.env.name).joined(separator: "+")
                duplicated.append("\(run.requestID(record)) (\(count) executions: \(places); \(record.attempts) sent)")
            } else if count > 1 {
                replays.append("\(run.requestID(record)) (\(count) executions, \(record.attempts) sent by libcurl)")
            }
            if record.outcome == .ok {
                okCount += 1
                if count == 0 { missing.append(run.requestID(record)) }
            }
        }
        duplicated += run.strays.filter { $0.value > 1 }.keys.sorted().map { "\(run.runID)-\($0) (\(run.strays[$0]!) executions of an id past the schedule)" }
        let evidence = Evidence(
            executions: executed, duplicated: duplicated.count, duplicatedIDs: duplicated.sample, harnessReplays: replays.count,
            harnessReplayIDs: replays.sample, okWithoutExecution: missing.count, okWithoutExecutionIDs: missing.sample, evidenceGaps: run.evidenceGaps)
        if !duplicated.isEmpty || !missing.isEmpty {
            return CheckResult(
                name: name, status: .fail,
                summary:
                    "\(duplicated.count) requests executed more often than sent; \(missing.count) of \(okCount) ok responses with no upstream execution; bound 0",
                evidence: evidence)
        }
        if !run.evidenceGaps.isEmpty { return .inconclusive(name, "the upstream evidence is incomplete: " + run.evidenceGaps.joined(separator: "; "), evidence) }
        if executed == 0 { return .inconclusive(name, "no request reached an upstream", evidence) }
        return CheckResult(
            name: name, status: .pass,
            summary: "\(executed) upstream executions, none more than sent (\(replays.count) libcurl replays), every ok executed once",
            evidence: evidence)
    }
}
