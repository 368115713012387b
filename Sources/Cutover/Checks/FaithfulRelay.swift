import HTTPServerCore

/// Injected upstream errors reach the client unchanged: for every request an upstream
/// answered with an injected 4xx/5xx, the client got the same status, the upstream's
/// fault stamp and a body of the same length (the OpenAI error object, not the router's).
public struct FaithfulRelay: Check {
    public let name = "FaithfulRelay"
    public init() {}

    public func evaluate(_ history: RunHistory, _ spec: CheckSpec) -> CheckResult {
        let windows = history.phases(named: spec.phases)
        var injected = 0
        var altered: [String] = []
        for env in [ServedBy.blue, .green] {
            for entry in history.executions(on: env, where: { !$0.faults.isEmpty && ($0.status ?? 0) >= 400 }) {
                guard let record = history.record(forRequestID: entry.requestID) else { continue }
                if !spec.phases.isEmpty, !windows.contains(where: { $0.contains(record) }) { continue }
                injected += 1
                var differences: [String] = []
                if Int(record.status) != entry.status { differences.append("status \(entry.status!) became \(record.status)") }
                if Int(record.bytes) != entry.bytes { differences.append("body of \(entry.bytes) bytes became \(record.bytes)") }
                if record.fault == 0 { differences.append("the X-Mock-Fault stamp was lost") }
                if !differences.isEmpty {
                    altered.append("\(entry.requestID) (\(env.name), fault \(entry.faults.joined(separator: ","))): \(differences.joined(separator: ", "))")
                }
            }
        }
        guard injected > 0 else {
            return CheckResult(
                name: name, status: .skipped, summary: "no injected upstream error reached the router in the checked phases",
                evidence: .object([("injected", .int(0))]))
        }
        return CheckResult(
            name: name, status: altered.isEmpty ? .pass : .fail,
            summary: "\(altered.count) of \(injected) injected upstream errors reached the client altered; bound 0",
            evidence: .object([
                ("injected", .int(injected)), ("altered", .int(altered.count)),
                ("examples", .array(altered.prefix(CheckResult.sampleLimit).map { .string($0) })),
            ]))
    }
}
