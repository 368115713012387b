import HTTPServerCore

/// No request id executed twice upstream, and every client `ok` executed exactly once
/// (the client ledger reconciled with both upstream ledgers).
public struct NoDuplicateExecution: Check {
    public let name = "NoDuplicateExecution"
    public init() {}

    public func evaluate(_ history: RunHistory, _ spec: CheckSpec) -> CheckResult {
        // Executions per sequence number; ids past the schedule (none, from a correct
        // harness) are counted apart so they can still show up as duplicates.
        let records = history.client.records
        var executions = [UInt8](repeating: 0, count: records.count)
        var beyond: [Int: Int] = [:]
        var executed = 0
        for entries in history.upstream.values {
            for entry in entries {
                guard let seq = history.requestSeq(entry.requestID) else { continue }
                executed += 1
                if seq < executions.count {
                    executions[seq] = executions[seq] &+ (executions[seq] < 255 ? 1 : 0)
                } else {
                    beyond[seq, default: 0] += 1
                }
            }
        }
        var duplicated: [String] = []
        var okCount = 0
        var missing: [String] = []
        for record in records {
            let count = Int(record.seq) < executions.count ? executions[Int(record.seq)] : 0
            if count > 1 { duplicated.append(history.client.requestID(record)) }
            if record.outcome == .ok {
                okCount += 1
                if count == 0 { missing.append(history.client.requestID(record)) }
            }
        }
        duplicated += beyond.filter { $0.value > 1 }.keys.sorted().map { "\(history.client.runID)-\($0)" }
        let failed = !duplicated.isEmpty || !missing.isEmpty
        return CheckResult(
            name: name, status: failed ? .fail : .pass,
            summary: "\(duplicated.count) request ids executed more than once; \(missing.count) of \(okCount) ok responses with no upstream execution",
            evidence: .object([
                ("executions", .int(executed)),
                ("duplicated", .int(duplicated.count)),
                ("duplicated_ids", .array(duplicated.prefix(CheckResult.sampleLimit).map { .string($0) })),
                ("ok_without_execution", .int(missing.count)),
                ("ok_without_execution_ids", .array(missing.prefix(CheckResult.sampleLimit).map { .string($0) })),
            ]))
    }
}
