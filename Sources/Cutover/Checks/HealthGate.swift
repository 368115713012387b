import HTTPServerCore

/// A canary asked for while green is unhealthy (an outage or 5xx on every request was
/// injected) is refused, green's weight stays where it was, and green serves nothing
/// until a later weight change is accepted.
public struct HealthGate: Check {
    public let name = "HealthGate"
    public init() {}

    public func evaluate(_ history: RunHistory, _ spec: CheckSpec) -> CheckResult {
        var gated = 0
        var problems: [String] = []
        var weightBefore = 0
        var servedAfter = 0
        for (index, action) in history.actions.enumerated() {
            defer { if let weight = action.greenWeight { weightBefore = weight } }
            guard action.name == "canary" else { continue }
            guard let fault = history.faults.first(where: { $0.target == .green && $0.makesUnhealthy && $0.covers(action.calledUs) }) else { continue }
            gated += 1
            let label = "canary at \(Double(action.calledUs) / 1e6)s while green had \(fault.kind) (\(fault.id))"
            if action.succeeded { problems.append("\(label) was accepted") }
            if let after = action.reportedWeightAfter, after != weightBefore {
                problems.append("\(label): green's weight became \(after) % (was \(weightBefore) %)")
            }
            guard weightBefore == 0 else { continue }
            let until = history.actions[(index + 1)...].first { $0.succeeded && $0.greenWeight != nil }?.calledUs ?? .max
            let leaked = history.client.records.filter { $0.servedBy == .green && $0.sentUs >= action.calledUs && $0.routedByUs < until }
            let executed = history.executions(on: .green) {
                let at = history.runMicros(ofArrival: $0)
                return at >= Double(action.calledUs) && at < Double(until)
            }
            servedAfter += max(leaked.count, executed.count)
            if !leaked.isEmpty || !executed.isEmpty {
                problems.append("\(label): green then served \(leaked.count) requests and executed \(executed.count)")
            }
        }
        guard gated > 0 else {
            return CheckResult(
                name: name, status: .skipped, summary: "no canary was asked for while green was unhealthy", evidence: .object([("gated_canaries", .int(0))]))
        }
        return CheckResult(
            name: name, status: problems.isEmpty ? .pass : .fail,
            summary: "\(gated) canaries asked for while green was unhealthy; \(problems.count) problems (accepted, weight moved, or green served); bound 0",
            evidence: .object([
                ("gated_canaries", .int(gated)), ("green_served_while_gated", .int(servedAfter)),
                ("problems", .array(problems.prefix(CheckResult.sampleLimit).map { .string($0) })),
            ]))
    }
}
