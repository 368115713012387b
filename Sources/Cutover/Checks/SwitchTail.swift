/// No request that starts at a switch waits much longer than the machine's worst at the
/// same moment: the tail that `LatencyBudget`'s p90 cannot see (a reload that stalls only
/// the new connections, a router that freezes for a moment at a promote).
///
/// Each request's *excess* is its time to first byte (from its intended send time; one
/// that got no byte counts its whole time) above the median of its endpoint in the run's
/// quiet stretches. An action's window runs from its call to 1 s after it returned; its
/// router-path tail is the largest excess of the requests scheduled in it, less the
/// largest excess of the control path's probes in the same window (straight to a
/// fault-free mock: what the machine alone did then). Requests an upstream delayed on
/// purpose (latency, a hang, a stall, a slow body) are the upstream's, and left out.
/// A window fails only when that difference passes `max`, the machine was quiet in it
/// (control path and generator), and none of the run's own windows without an action (at
/// least 10 of them) has a tail even half as bad. Anything else that is over is
/// inconclusive, never a fail.
package struct SwitchTail: RunCheck {
    package let id = CheckID.switchTail
    package let parameters: Set<String> = ["max", "phases"]
    package init() {}

    static let defaultBoundUs: UInt32 = 50_000
    static let minimumRequests = LatencyBudget.minimumRequests

    package struct Evidence: CheckEvidence {
        package struct Window: Encodable, Sendable {
            package var action: String
            package var atMs: Double
            package var requests: Int
            /// The slowest request's excess over its endpoint's quiet median, and its id.
            package var worstExcessMs: Double
            package var worstRequest: String
            /// The slowest control probe's excess in the same window.
            package var controlWorstExcessMs: Double
            /// Router tail less control tail: what the router added at the worst.
            package var routerAddedMs: Double
            package var machine: MachineNoise
            /// Quiet windows whose figure was at least half as large.
            package var quietWindowsHalfAsBad: Int
            package var verdict: String
        }
        package var boundMs: Double
        package var quietWindows: Int
        /// The figure of the windows without an action: the null distribution's p50 and max.
        package var quietAddedP50Ms: Double
        package var quietAddedMaxMs: Double
        /// Requests left out because an upstream delayed them on purpose.
        package var delayedByUpstream: Int
        package var windows: [Window]
    }

    /// One window's tail on both paths.
    private struct Tail {
        var requests: Int
        var worstUs: UInt32
        var worstIndex: Int
        var controlUs: UInt32
        var addedUs: Int
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let boundUs = spec.max.map { UInt32(clamping: $0.microseconds) } ?? Self.defaultBoundUs
        let timeLine = ActionWindows(run, phases: spec.phases)

        // The requests judged, by intended time: sent, and not slowed by an upstream on purpose.
        var judged: [Int] = []
        var delayed = 0
        // Each request's executions are read only when some fault delays answers at all.
        let delaying = run.faults.contains(where: \.delaysAnswer)
        for (index, record) in run.records.enumerated() where record.outcome != .notSent {
            if record.outcome == .upstreamFault || (delaying && delayedByUpstream(record, run)) {
                delayed += 1
            } else {
                judged.append(index)
            }
        }
        judged.sort { run.records[$0].intendedUs < run.records[$1].intendedUs }
        let times = judged.map { run.records[$0].intendedUs }

        var medians: [Endpoint: UInt32] = [:]
        for endpoint in Endpoint.allCases {
            let quiet = judged.lazy.map { run.records[$0] }.filter { $0.endpoint == endpoint && !timeLine.nearAction($0.intendedUs) }.map(\.waitedUs)
            medians[endpoint] = Percentile.of(Array(quiet), 0.5)
        }
        func excess(_ record: LedgerRecord) -> UInt32 {
            let typical = medians[record.endpoint].flatMap { $0 } ?? 0
            return record.waitedUs > typical ? record.waitedUs - typical : 0
        }
        func tail(from: UInt32, to: UInt32) -> Tail? {
            let slice = judged[times.insertionIndex(of: from)..<times.insertionIndex(of: to)]
            guard slice.count >= Self.minimumRequests, let control = run.machine.worstExcessUs(fromUs: from, toUs: to) else { return nil }
            var worst: UInt32 = 0
            var worstIndex = slice.first!
            for index in slice {
                let value = excess(run.records[index])
                if value >= worst { (worst, worstIndex) = (value, index) }
            }
            return Tail(requests: slice.count, worstUs: worst, worstIndex: worstIndex, controlUs: control, addedUs: Int(worst) - Int(control))
        }

        // The null distribution: windows of the actions' length that hold no action.
        let quietAdded = timeLine.quietWindows(fromUs: run.phases.first?.openedUs ?? 0, toUs: times.last ?? 0).compactMap {
            tail(from: $0.from, to: $0.to)?.addedUs
        }
        let sortedQuiet = quietAdded.sorted()

        var rows: [Evidence.Window] = []
        var failed: [String] = []
        var unjudged: [String] = []
        for (action, from, to) in timeLine.judged {
            let label = "\(action.action.label) at \(Double(action.calledUs) / 1e6)s"
            guard let window = tail(from: from, to: to) else {
                unjudged.append("\(label): fewer than \(Self.minimumRequests) requests or \(ControlPath.minimumProbes) control probes in its window")
                continue
            }
            let noise = run.machine.noise(fromUs: from, toUs: to, boundUs: boundUs)
            let worst = run.records[window.worstIndex]
            let (verdict, asBad) = ActionWindows.verdict(
                addedUs: window.addedUs, boundUs: boundUs, noise: noise, quietAdded: quietAdded, halfAsBad: "have a tail at least half as bad")
            switch verdict {
            case .pass: break
            case .inconclusive(_, let short): unjudged.append("\(label): \(short)")
            case .fail:
                failed.append(
                    "\(label): \(run.requestID(worst)) waited \(Double(window.worstUs) / 1000) ms over its endpoint's usual time, \(Double(window.addedUs) / 1000) ms more than the control path's worst then (bound \(Double(boundUs) / 1000) ms)"
                )
            }
            rows.append(
                Evidence.Window(
                    action: action.action.label, atMs: Double(action.calledUs) / 1000, requests: window.requests,
                    worstExcessMs: Double(window.worstUs) / 1000, worstRequest: run.requestID(worst), controlWorstExcessMs: Double(window.controlUs) / 1000,
                    routerAddedMs: Double(window.addedUs) / 1000, machine: noise, quietWindowsHalfAsBad: asBad, verdict: verdict.text))
        }
        let evidence = Evidence(
            boundMs: Double(boundUs) / 1000, quietWindows: quietAdded.count, quietAddedP50Ms: Double(Percentile.of(sortedQuiet, 0.5) ?? 0) / 1000,
            quietAddedMaxMs: Double(sortedQuiet.last ?? 0) / 1000, delayedByUpstream: delayed, windows: rows)
        if !failed.isEmpty {
            return CheckResult(name: name, status: .fail, summary: failed.joined(separator: "; "), evidence: evidence)
        }
        guard !timeLine.judged.isEmpty else { return .inconclusive(name, "no accepted action to judge", evidence) }
        if !unjudged.isEmpty { return .inconclusive(name, "could not judge every switch: " + unjudged.joined(separator: "; "), evidence) }
        return CheckResult(
            name: name, status: .pass,
            summary:
                "the slowest request at a switch waited at most \(Double(rows.map(\.routerAddedMs).max() ?? 0)) ms more than the control path's slowest (\(rows.count) action windows); bound \(Double(boundUs) / 1000) ms",
            evidence: evidence)
    }

    /// An upstream that executed it was told to be slow for it (latency, a hang, a stall, a
    /// slow body): its wait is the upstream's.
    private func delayedByUpstream(_ record: LedgerRecord, _ run: ReconciledRun) -> Bool {
        run.executions(record.seq).contains { execution in
            execution.entry.faults.contains { id in run.faultWindows(on: execution.env, id: id).contains(where: \.delaysAnswer) }
        }
    }
}
