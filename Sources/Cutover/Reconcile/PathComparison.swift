/// The router path beside the control path and the generator's own lag, over the whole
/// run and per second: what the reports show so that a person can see whether a slow
/// moment was the router's (only the router path rose) or the machine's (the control
/// path or the generator's lag rose with it).
///
/// Each path is shown as its *excess*: a request's time to first byte (from its intended
/// send time) above the median of its own endpoint over the run, so that a streamed
/// answer's time to first token and a models probe's 1 ms sit on the same scale.
package struct PathComparison: Sendable, Encodable {
    package struct Path: Sendable, Encodable {
        /// Requests sent on the path.
        package var requests: Int
        /// Time to first byte from the intended send time.
        package var p50Ms: Double
        package var p99Ms: Double
        /// p90 excess over each endpoint's median.
        package var excessP90Ms: Double
    }

    package struct Second: Sendable, Encodable {
        package var second: Int
        package var routerExcessP90Ms: Double
        package var controlExcessP90Ms: Double
        package var controlProbes: Int
        package var generatorLagP99Ms: Double
        /// The control path or the generator passed `noiseBoundMs` in this second.
        package var noisy: Bool
    }

    package var router: Path
    /// The probes straight to a fault-free mock; nil in a run without a control path.
    package var control: Path?
    package var generatorLagP50Ms: Double
    package var generatorLagP99Ms: Double
    package var generatorLagMaxMs: Double
    /// A second is noisy when the control path's p90 excess or the generator's p99 lag
    /// passes this: LatencyBudget's smallest budget.
    package var noiseBoundMs: Double
    package var noisySeconds: Int
    package var seconds: [Second]

    package init(_ run: ReconciledRun) {
        let boundUs = LatencyBudget.floorUs
        let sent = run.records.filter { $0.outcome != .notSent }
        let probes = (run.history.control?.records ?? []).filter { $0.outcome != .notSent }
        let routerExcess = Self.excess(sent)
        let controlExcess = Self.excess(probes)
        let lags = sent.map(\.lagUs)
        router = Self.path(sent, routerExcess)
        control = probes.isEmpty ? nil : Self.path(probes, controlExcess)
        generatorLagP50Ms = Self.ms(Percentile.of(lags, 0.5))
        generatorLagP99Ms = Self.ms(Percentile.of(lags, 0.99))
        generatorLagMaxMs = Self.ms(lags.max())
        noiseBoundMs = Double(boundUs) / 1000

        let count = Int((sent.map(\.intendedUs).max() ?? 0) / 1_000_000) + (sent.isEmpty ? 0 : 1)
        var routerBySecond = [[UInt32]](repeating: [], count: count)
        var lagBySecond = [[UInt32]](repeating: [], count: count)
        var controlBySecond = [[UInt32]](repeating: [], count: count)
        for (record, excess) in zip(sent, routerExcess) {
            routerBySecond[Int(record.intendedUs / 1_000_000)].append(excess)
            lagBySecond[Int(record.intendedUs / 1_000_000)].append(record.lagUs)
        }
        for (probe, excess) in zip(probes, controlExcess) where Int(probe.intendedUs / 1_000_000) < count {
            controlBySecond[Int(probe.intendedUs / 1_000_000)].append(excess)
        }
        seconds = (0..<count).map { index in
            let controlP90 = Percentile.of(controlBySecond[index], 0.9) ?? 0
            let lagP99 = Percentile.of(lagBySecond[index], 0.99) ?? 0
            return Second(
                second: index, routerExcessP90Ms: Self.ms(Percentile.of(routerBySecond[index], 0.9)), controlExcessP90Ms: Self.ms(controlP90),
                controlProbes: controlBySecond[index].count, generatorLagP99Ms: Self.ms(lagP99),
                noisy: controlP90 > boundUs || lagP99 > boundUs || (!probes.isEmpty && controlBySecond[index].count < ControlPath.minimumProbes))
        }
        noisySeconds = seconds.filter(\.noisy).count
    }

    /// One line for the terminal and the JUnit properties.
    package var text: String {
        func f(_ value: Double) -> String { String(format: "%.2f", value) }
        let controlText = control.map { "control path (no router) p50 \(f($0.p50Ms)) ms p99 \(f($0.p99Ms)) ms" } ?? "no control path"
        return
            "time to first byte: router path p50 \(f(router.p50Ms)) ms p99 \(f(router.p99Ms)) ms · \(controlText) · generator lag p99 \(f(generatorLagP99Ms)) ms max \(f(generatorLagMaxMs)) ms · \(noisySeconds) of \(seconds.count) s noisy"
    }

    /// Each record's time to first byte above its endpoint's median over `records`.
    private static func excess(_ records: [LedgerRecord]) -> [UInt32] {
        var medians: [Endpoint: UInt32] = [:]
        for endpoint in Endpoint.allCases {
            medians[endpoint] = Percentile.of(records.filter { $0.endpoint == endpoint }.map(\.waitedUs), 0.5)
        }
        return records.map { record in
            let typical = medians[record.endpoint].flatMap { $0 } ?? 0
            return record.waitedUs > typical ? record.waitedUs - typical : 0
        }
    }

    private static func path(_ records: [LedgerRecord], _ excess: [UInt32]) -> Path {
        let waited = records.map(\.waitedUs)
        return Path(
            requests: records.count, p50Ms: ms(Percentile.of(waited, 0.5)), p99Ms: ms(Percentile.of(waited, 0.99)), excessP90Ms: ms(Percentile.of(excess, 0.9)))
    }

    private static func ms(_ us: UInt32?) -> Double { (Double(us ?? 0) / 10).rounded() / 100 }
}
