import HTTPServerCore

/// No request id executed twice upstream, and every client `ok` executed exactly once
/// (the client ledger reconciled with both upstream ledgers).
public struct NoDuplicateExecution: Check {
    public let name = "NoDuplicateExecution"
    public init() {}

    public func evaluate(_ history: RunHistory, _ spec: CheckSpec) -> CheckResult {
        let prefix = history.client.runID + "-"
        var executions: [String: Int] = [:]
        for entries in history.upstream.values {
            for entry in entries where entry.requestID.hasPrefix(prefix) {
                executions[entry.requestID, default: 0] += 1
            }
        }
        let duplicated = executions.filter { $0.value > 1 }.keys.sorted()
        let okIDs = history.client.records.filter { $0.outcome == .ok }.map { history.client.requestID($0) }
        let missing = okIDs.filter { executions[$0] == nil }
        let failed = !duplicated.isEmpty || !missing.isEmpty
        return CheckResult(
            name: name, status: failed ? .fail : .pass,
            summary: "\(duplicated.count) request ids executed more than once; \(missing.count) of \(okIDs.count) ok responses with no upstream execution",
            evidence: .object([
                ("executed_ids", .int(executions.count)),
                ("duplicated", .int(duplicated.count)),
                ("duplicated_ids", .array(duplicated.prefix(CheckResult.sampleLimit).map { .string($0) })),
                ("ok_without_execution", .int(missing.count)),
                ("ok_without_execution_ids", .array(missing.prefix(CheckResult.sampleLimit).map { .string($0) })),
            ]))
    }
}
