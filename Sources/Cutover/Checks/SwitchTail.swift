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
    static let afterUs = LatencyBudget.afterUs
    static let minimumRequests = LatencyBudget.minimumRequests
    static let minimumQuietWindows = LatencyBudget.minimumQuietWindows

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
        let windows = run.phases(named: spec.phases)
        let actions = run.actions.filter { action in
            // A crash's own toll is CrashRecovery's.
            action.accepted && action.action != .validate && action.action != .crash
                && (spec.phases.isEmpty || windows.contains { action.calledUs >= $0.openedUs && action.calledUs < $0.closedUs })
        }
        let allSpans = run.actions.filter { $0.action != .validate }.map { (from: $0.calledUs, to: $0.returnedUs &+ Self.afterUs) }
        func nearAction(_ us: UInt32, margin: UInt32) -> Bool {
            allSpans.contains { us &+ margin >= $0.from && us < $0.to &+ margin }
        }

        // The requests judged, by intended time: sent, and not slowed by an upstream on purpose.
        var judged: [Int] = []
        var delayed = 0
        for (index, record) in run.records.enumerated() where record.outcome != .notSent {
            if record.outcome == .upstreamFault || delayedByUpstream(record, run) {
                delayed += 1
            } else {
                judged.append(index)
            }
        }
        judged.sort { run.records[$0].intendedUs < run.records[$1].intendedUs }
        let times = judged.map { run.records[$0].intendedUs }

        var medians: [Endpoint: UInt32] = [:]
        for endpoint in Endpoint.allCases {
            let quiet = judged.lazy.map { run.records[$0] }.filter { $0.endpoint == endpoint && !nearAction($0.intendedUs, margin: 0) }.map(\.waitedUs)
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
        let spans = actions.map { (from: $0.calledUs, to: $0.returnedUs &+ Self.afterUs) }
        let lengthUs = spans.isEmpty ? Self.afterUs : UInt32(spans.map { Double($0.to - $0.from) }.reduce(0, +) / Double(spans.count))
        var quietAdded: [Int] = []
        var start = run.phases.first?.openedUs ?? 0
        let end = times.last ?? 0
        while start &+ lengthUs <= end {
            if !nearAction(start, margin: LatencyBudget.marginUs), !nearAction(start &+ lengthUs, margin: LatencyBudget.marginUs),
                !allSpans.contains(where: { $0.from >= start && $0.from < start &+ lengthUs }), let quiet = tail(from: start, to: start &+ lengthUs)
            {
                quietAdded.append(quiet.addedUs)
            }
            start &+= lengthUs
        }
        let sortedQuiet = quietAdded.sorted()

        var rows: [Evidence.Window] = []
        var failed: [String] = []
        var unjudged: [String] = []
        for (action, span) in zip(actions, spans) {
            let label = "\(action.action.label) at \(Double(action.calledUs) / 1e6)s"
            guard let window = tail(from: span.from, to: span.to) else {
                unjudged.append("\(label): fewer than \(Self.minimumRequests) requests or \(ControlPath.minimumProbes) control probes in its window")
                continue
            }
            let noise = run.machine.noise(fromUs: span.from, toUs: span.to, boundUs: boundUs)
            let asBad = quietAdded.filter { $0 * 2 >= window.addedUs }.count
            let worst = run.records[window.worstIndex]
            let verdict: String
            if window.addedUs <= Int(boundUs) {
                verdict = "pass"
            } else if noise.noisy {
                verdict = "inconclusive: \(noise.reason ?? "the machine was slow")"
                unjudged.append("\(label): \(noise.reason ?? "")")
            } else if quietAdded.count < Self.minimumQuietWindows {
                verdict = "inconclusive: only \(quietAdded.count) windows without an action to compare with"
                unjudged.append("\(label): only \(quietAdded.count) quiet windows")
            } else if asBad > 0 {
                verdict = "inconclusive: \(asBad) of \(quietAdded.count) windows without an action have a tail at least half as bad"
                unjudged.append("\(label): \(asBad) of \(quietAdded.count) quiet windows at least half as bad")
            } else {
                verdict = "fail"
                failed.append(
                    "\(label): \(run.requestID(worst)) waited \(Double(window.worstUs) / 1000) ms over its endpoint's usual time, \(Double(window.addedUs) / 1000) ms more than the control path's worst then (bound \(Double(boundUs) / 1000) ms)"
                )
            }
            rows.append(
                Evidence.Window(
                    action: action.action.label, atMs: Double(action.calledUs) / 1000, requests: window.requests,
                    worstExcessMs: Double(window.worstUs) / 1000, worstRequest: run.requestID(worst), controlWorstExcessMs: Double(window.controlUs) / 1000,
                    routerAddedMs: Double(window.addedUs) / 1000, machine: noise, quietWindowsHalfAsBad: asBad, verdict: verdict))
        }
        let evidence = Evidence(
            boundMs: Double(boundUs) / 1000, quietWindows: quietAdded.count, quietAddedP50Ms: Double(Percentile.of(sortedQuiet, 0.5) ?? 0) / 1000,
            quietAddedMaxMs: Double(sortedQuiet.last ?? 0) / 1000, delayedByUpstream: delayed, windows: rows)
        if !failed.isEmpty {
            return CheckResult(name: name, status: .fail, summary: failed.joined(separator: "; "), evidence: evidence)
        }
        guard !actions.isEmpty else { return .inconclusive(name, "no accepted action to judge", evidence) }
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
