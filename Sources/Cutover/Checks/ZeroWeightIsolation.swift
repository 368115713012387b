import HTTPServerCore

/// An environment at weight 0 serves nothing that was sent after the switch returned:
/// after a rollback green serves no new request, after a promote blue serves none.
public struct ZeroWeightIsolation: Check {
    public let name = "ZeroWeightIsolation"
    public init() {}

    public func evaluate(_ history: RunHistory, _ spec: CheckSpec) -> CheckResult {
        var checked = 0
        var leaks: [String] = []
        let switches = history.actions.filter { $0.succeeded && ($0.greenWeight == 0 || $0.greenWeight == 100) }
        for (index, action) in switches.enumerated() {
            let isolated: ServedBy = action.greenWeight == 0 ? .green : .blue
            // Until the next weight change (if any), the isolated environment must serve nothing
            // new; a request still being routed when that change was called may follow either.
            let until =
                history.actions.first { $0.calledUs > action.returnedUs && $0.greenWeight != nil && $0.greenWeight != action.greenWeight }?.calledUs ?? .max
            for record in history.client.records where record.sentUs > action.returnedUs && record.routedByUs < until && record.outcome != .notSent {
                checked += 1
                if record.servedBy == isolated {
                    leaks.append(
                        "\(history.client.requestID(record)) after \(action.name) #\(index + 1): sent \(Double(record.sentUs - action.returnedUs) / 1000) ms after it returned, served by \(isolated.name)"
                    )
                }
            }
        }
        guard !switches.isEmpty else {
            return CheckResult(name: name, status: .skipped, summary: "no switch to weight 0 or 100 in the run", evidence: .object([("switches", .int(0))]))
        }
        return CheckResult(
            name: name, status: leaks.isEmpty ? .pass : .fail,
            summary: "\(leaks.count) of \(checked) requests sent after a switch reached the environment at weight 0; bound 0",
            evidence: .object([
                ("switches", .int(switches.count)), ("requests_after", .int(checked)), ("leaked", .int(leaks.count)),
                ("examples", .array(leaks.prefix(CheckResult.sampleLimit).map { .string($0) })),
            ]))
    }
}
