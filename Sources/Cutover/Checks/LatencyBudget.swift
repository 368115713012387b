/// Switching costs no latency to speak of, judged so that the machine's noise is never
/// blamed on the router.
///
/// Each request's *excess* is its time to first byte (from the intended send time; one
/// that got no byte counts its whole time) above the median of its endpoint in the run's
/// quiet stretches. An action's window runs from its call to 1 s after it returned; its
/// router-path figure is the p90 excess of the requests scheduled in it, less the control
/// path's p90 excess in the same window (a probe straight to a fault-free mock, which no
/// router slows). The window fails only when that difference passes the budget
/// (`factor` − 1 times the quiet median, at least 5 ms), the control path and the
/// generator were quiet in it, and none of the run's own windows without an action (at
/// least 10 of them: the null distribution) looks even half as bad. A window where the
/// machine was slow, or that quiet windows come near, is inconclusive, never a fail.
package struct LatencyBudget: RunCheck {
    package let id = CheckID.latencyBudget
    package let parameters: Set<String> = ["factor", "phases"]
    package init() {}

    static let floorUs: UInt32 = 5_000
    static let minimumRequests = 10

    package struct Evidence: CheckEvidence {
        package struct Window: Encodable, Sendable {
            package var action: String
            package var atMs: Double
            package var requests: Int
            /// p99 time to first byte on the router path, for reference.
            package var routerP99Ms: Double
            /// p90 excess over the endpoint's quiet median on the router path.
            package var routerExcessP90Ms: Double
            /// The machine in the same window: control probes and the generator's lag.
            package var machine: MachineNoise
            /// Router excess less control excess: what the router added.
            package var routerAddedMs: Double
            /// Quiet windows whose router-added figure was at least half as large.
            package var quietWindowsHalfAsBad: Int
            package var verdict: String
        }
        package var factor: Double
        package var budgetMs: Double
        package var quietMedianMs: Double
        package var quietWindows: Int
        /// The router-added figure of the quiet windows: the null distribution's p50 and max.
        package var quietAddedP50Ms: Double
        package var quietAddedMaxMs: Double
        package var windows: [Window]
    }

    /// A sent request's send time, wait and endpoint.
    struct Timed {
        var intendedUs: UInt32
        var waitedUs: UInt32
        var endpoint: Endpoint
    }

    /// One window's figures on both paths.
    struct Figures {
        var requests: Int
        var routerExcessP90: UInt32
        var routerP99: UInt32
        var noise: MachineNoise
        var addedUs: Int
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let factor = spec.factor ?? 3
        let timeLine = ActionWindows(run, phases: spec.phases)
        // Only what the windows read, 12 bytes a request: a million-request run's filters and
        // sort then move 12 MB, not 80.
        var sent: [Timed] = []
        sent.reserveCapacity(run.records.count)
        for record in run.records where record.outcome != .notSent {
            sent.append(Timed(intendedUs: record.intendedUs, waitedUs: record.waitedUs, endpoint: record.endpoint))
        }
        // Each endpoint's typical time, from the requests far from every action.
        let quiet = sent.filter { !timeLine.nearAction($0.intendedUs) }
        var medians: [Endpoint: UInt32] = [:]
        for endpoint in Endpoint.allCases {
            medians[endpoint] = Percentile.of(quiet.filter { $0.endpoint == endpoint }.map(\.waitedUs), 0.5)
        }
        let quietMedian = Percentile.of(quiet.map(\.waitedUs), 0.5) ?? 0
        let budgetUs = max(Self.floorUs, UInt32(Double(quietMedian) * max(0, factor - 1)))
        let byTime = sent.sorted { $0.intendedUs < $1.intendedUs }
        let times = byTime.map(\.intendedUs)

        func figures(from: UInt32, to: UInt32) -> Figures? {
            let slice = byTime[times.insertionIndex(of: from)..<times.insertionIndex(of: to)]
            guard slice.count >= Self.minimumRequests else { return nil }
            let waited = slice.map(\.waitedUs)
            let excess = slice.map { record -> UInt32 in
                let typical = medians[record.endpoint].flatMap { $0 } ?? quietMedian
                let time = record.waitedUs
                return time > typical ? time - typical : 0
            }
            let noise = run.machine.noise(fromUs: from, toUs: to, boundUs: budgetUs)
            let routerExcess = Percentile.of(excess, 0.9)!
            let added = Int(routerExcess) - Int(noise.controlExcessP90Ms * 1000)
            return Figures(requests: slice.count, routerExcessP90: routerExcess, routerP99: Percentile.of(waited, 0.99)!, noise: noise, addedUs: added)
        }

        // The null distribution: windows of the actions' length that hold no action.
        let quietAdded = timeLine.quietWindows(fromUs: run.phases.first?.openedUs ?? 0, toUs: sent.map(\.intendedUs).max() ?? 0).compactMap {
            figures(from: $0.from, to: $0.to)?.addedUs
        }
        let sortedQuiet = quietAdded.sorted()

        var rows: [Evidence.Window] = []
        var failed: [String] = []
        var unjudged: [String] = []
        for (action, from, to) in timeLine.judged {
            let label = "\(action.action.label) at \(Double(action.calledUs) / 1e6)s"
            guard let window = figures(from: from, to: to) else {
                unjudged.append("\(label): fewer than \(Self.minimumRequests) requests in its window")
                continue
            }
            let (verdict, asBad) = ActionWindows.verdict(
                addedUs: window.addedUs, boundUs: budgetUs, noise: window.noise, quietAdded: quietAdded, halfAsBad: "are at least half as slow")
            switch verdict {
            case .pass: break
            case .inconclusive(_, let short): unjudged.append("\(label): \(short)")
            case .fail:
                failed.append(
                    "\(label): the router added \(Double(window.addedUs) / 1000) ms (p90) against a budget of \(Double(budgetUs) / 1000) ms, with the control path quiet"
                )
            }
            rows.append(
                Evidence.Window(
                    action: action.action.label, atMs: Double(action.calledUs) / 1000, requests: window.requests, routerP99Ms: Double(window.routerP99) / 1000,
                    routerExcessP90Ms: Double(window.routerExcessP90) / 1000, machine: window.noise, routerAddedMs: Double(window.addedUs) / 1000,
                    quietWindowsHalfAsBad: asBad, verdict: verdict.text))
        }
        let evidence = Evidence(
            factor: factor, budgetMs: Double(budgetUs) / 1000, quietMedianMs: Double(quietMedian) / 1000, quietWindows: quietAdded.count,
            quietAddedP50Ms: Double(Percentile.of(sortedQuiet, 0.5) ?? 0) / 1000, quietAddedMaxMs: Double(sortedQuiet.last ?? 0) / 1000, windows: rows)
        if !failed.isEmpty {
            return CheckResult(name: name, status: .fail, summary: failed.joined(separator: "; "), evidence: evidence)
        }
        guard !timeLine.judged.isEmpty else { return .inconclusive(name, "no accepted action to judge", evidence) }
        if !unjudged.isEmpty { return .inconclusive(name, "the machine was too noisy to judge: " + unjudged.joined(separator: "; "), evidence) }
        return CheckResult(
            name: name, status: .pass,
            summary:
                "the router added at most \(Double(rows.map(\.routerAddedMs).max() ?? 0)) ms (p90, control path subtracted) in \(rows.count) action windows; budget \(Double(budgetUs) / 1000) ms",
            evidence: evidence)
    }
}
