import ConfigInput
import HTTPServerCore

/// How fast a rollback takes effect: from the rollback call returning to the start of the
/// last request green served that was sent after it; within the bound (default 1s).
public struct RollbackTime: Check {
    public let name = "RollbackTime"
    public init() {}

    public func evaluate(_ history: RunHistory, _ spec: CheckSpec) -> CheckResult {
        let bound = spec.max ?? .seconds(1)
        let boundUs = bound.microseconds
        let rollbacks = history.actions.filter { $0.name == "rollback" && $0.succeeded }
        guard !rollbacks.isEmpty else {
            return CheckResult(name: name, status: .skipped, summary: "no rollback in the run", evidence: .object([("rollbacks", .int(0))]))
        }
        var worst: UInt64 = 0
        var rows: [JSON] = []
        for rollback in rollbacks {
            let until = history.actions.first { $0.calledUs > rollback.returnedUs && ($0.greenWeight ?? 0) > 0 }?.calledUs ?? .max
            let lastGreen = history.client.records
                .filter { $0.servedBy == .green && $0.sentUs > rollback.returnedUs && $0.routedByUs < until }
                .map(\.sentUs).max()
            let elapsed = lastGreen.map { UInt64($0 - rollback.returnedUs) } ?? 0
            worst = max(worst, elapsed)
            rows.append(.object([("returned_ms", .double(Double(rollback.returnedUs) / 1000)), ("rollback_time_ms", .double(Double(elapsed) / 1000))]))
        }
        return CheckResult(
            name: name, status: worst <= boundUs ? .pass : .fail,
            summary: "slowest rollback: green served a request sent \(Double(worst) / 1000) ms after the call returned (bound \(DurationText.format(bound)))",
            evidence: .object([("bound_ms", .double(Double(boundUs) / 1000)), ("rollbacks", .array(rows))]))
    }
}
