import HTTPServerCore

/// Every stream open across a switch (a weight change or a restart) ends with `[DONE]`
/// and its full event count: the role chunk, one chunk per token, the finish chunk.
/// Streams that an injected upstream fault (other than a delay) hit are the upstream's
/// doing and are left out.
public struct StreamIntegrity: Check {
    public let name = "StreamIntegrity"
    public init() {}

    public func evaluate(_ history: RunHistory, _ spec: CheckSpec) -> CheckResult {
        guard let plan = history.plan else {
            return CheckResult(name: name, status: .skipped, summary: "the run has no load plan to say each stream's length", evidence: .object([]))
        }
        let switches = history.actions.filter { $0.succeeded && ($0.greenWeight != nil || $0.name == "restart") }
        let windows = history.phases(named: spec.phases)
        // Delays (latency, stream pace) do not break a stream; every other injected fault may.
        let shaping = Set(history.faults.filter(\.onlyDelays).map(\.id))
        var across = 0
        var excluded = 0
        var broken: [String] = []
        for record in history.client.records where record.endpoint == .chatStream && record.outcome != .notSent {
            if !spec.phases.isEmpty, !windows.contains(where: { $0.contains(record) }) { continue }
            let end = record.doneUs == 0 ? UInt32.max : record.doneUs
            guard let action = switches.first(where: { record.sentUs < $0.returnedUs && end > $0.calledUs }) else { continue }
            if let stamp = history.client.faultStamp(record), stamp.split(separator: ",").contains(where: { !shaping.contains(String($0)) }) {
                excluded += 1
                continue
            }
            across += 1
            let expected = plan.choices(for: UInt64(record.seq)).mix.maxTokens + 2
            if !(record.outcome == .ok && record.sawDone && Int(record.chunks) == expected) {
                broken.append(
                    "\(history.client.requestID(record)) across \(action.name) at \(Double(action.calledUs) / 1e6)s: \(record.chunks) of \(expected) events, [DONE] \(record.sawDone ? "seen" : "missing"), \(record.outcome.name)"
                )
            }
        }
        guard across > 0 else {
            return CheckResult(
                name: name, status: .skipped, summary: "no stream was open across a switch",
                evidence: .object([("switches", .int(switches.count)), ("excluded_injected", .int(excluded))]))
        }
        return CheckResult(
            name: name, status: broken.isEmpty ? .pass : .fail,
            summary: "\(broken.count) of \(across) streams open across a switch ended short or without [DONE]; bound 0",
            evidence: .object([
                ("streams_across_switches", .int(across)), ("broken", .int(broken.count)), ("excluded_injected", .int(excluded)),
                ("examples", .array(broken.prefix(CheckResult.sampleLimit).map { .string($0) })),
            ]))
    }
}
