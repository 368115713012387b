import HTTPServerCore

/// No dropped request (router-error or transport) in the checked phases (the whole run
/// when the suite names none).
public struct ZeroDropped: Check {
    public let name = "ZeroDropped"
    public init() {}

    public func evaluate(_ history: RunHistory, _ spec: CheckSpec) -> CheckResult {
        let records = spec.phases.isEmpty ? history.client.records : history.records(in: history.phases(named: spec.phases))
        let dropped = records.filter(\.outcome.isDropped)
        let routerErrors = dropped.filter { $0.outcome == .routerError }.count
        let evidence = JSON.object([
            ("requests", .int(records.count)),
            ("dropped", .int(dropped.count)),
            ("router_error", .int(routerErrors)),
            ("transport", .int(dropped.count - routerErrors)),
            ("request_ids", .array(dropped.prefix(CheckResult.sampleLimit).map { .string(history.client.requestID($0)) })),
        ])
        return CheckResult(
            name: name, status: dropped.isEmpty ? .pass : .fail,
            summary:
                "\(dropped.count) of \(records.count) requests dropped (\(routerErrors) router errors, \(dropped.count - routerErrors) transport); bound 0",
            evidence: evidence)
    }
}
