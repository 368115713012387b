/// The run's control path, indexed by time once: the control probes (straight to a
/// fault-free mock, no router) and the router path's scheduling lag. Timing checks ask it
/// whether the machine was quiet in a span before they blame the router for slowness.
package struct ControlPath: Sendable {
    /// Control probes' intended send times, sorted, and their times to first byte (µs).
    private let probeTimes: [UInt32]
    private let probeWaits: [UInt32]
    /// The router path's intended send times, sorted, and their scheduling lags (µs).
    private let lagTimes: [UInt32]
    private let lagValues: [UInt32]
    /// The control path's median time to first byte over the run (µs).
    package let medianUs: UInt32
    /// Fewer control probes than this in a span cannot vouch for the machine.
    static let minimumProbes = 3

    init(control: ClientLedger?, records: [LedgerRecord]) {
        let probes = (control?.records ?? []).filter { $0.outcome != .notSent }.map { ($0.intendedUs, $0.waitedUs) }.sorted { $0.0 < $1.0 }
        // Slots that waited for a transfer slot the router held are late by the router's doing.
        var lags: [(UInt32, UInt32)] = []
        lags.reserveCapacity(records.count)
        for record in records where record.outcome != .notSent && !record.heldBack { lags.append((record.intendedUs, record.lagUs)) }
        if !zip(lags, lags.dropFirst()).allSatisfy({ $0.0 <= $1.0 }) { lags.sort { $0.0 < $1.0 } }
        probeTimes = probes.map(\.0)
        probeWaits = probes.map(\.1)
        lagTimes = lags.map(\.0)
        lagValues = lags.map(\.1)
        medianUs = Percentile.of(probeWaits, 0.5) ?? 0
    }

    /// Whether a run had a control path at all.
    package var isPresent: Bool { !probeTimes.isEmpty }

    /// The machine's noise in `[from, to)`: noisy when the control probes' p90 rose more
    /// than `boundUs` above their median, or (with `generatorLag`) the generator's p99 lag
    /// passed `boundUs`, or too few probes ran to tell.
    package func noise(fromUs from: UInt32, toUs to: UInt32, boundUs: UInt32, generatorLag: Bool = true) -> MachineNoise {
        let inSpan = Array(probeWaits[probeTimes.insertionIndex(of: from)..<probeTimes.insertionIndex(of: max(from, to))])
        let lagSpan = Array(lagValues[lagTimes.insertionIndex(of: from)..<lagTimes.insertionIndex(of: max(from, to))])
        let p90 = Percentile.of(inSpan, 0.9) ?? 0
        let excess = p90 > medianUs ? p90 - medianUs : 0
        let lag = Percentile.of(lagSpan, 0.99) ?? 0
        var reason: String?
        if inSpan.count < Self.minimumProbes {
            reason = "only \(inSpan.count) control probes ran in the span"
        } else if excess > boundUs {
            reason = "the control path, with no router, was \(Double(excess) / 1000) ms slower than usual (p90)"
        } else if generatorLag, lag > boundUs {
            reason = "the generator itself sent \(Double(lag) / 1000) ms late (p99 lag)"
        }
        return MachineNoise(
            fromMs: Double(from) / 1000, toMs: Double(to) / 1000, controlSamples: inSpan.count, controlExcessP90Ms: Double(excess) / 1000,
            generatorLagP99Ms: Double(lag) / 1000, noisy: reason != nil, reason: reason)
    }

    /// The worst control probe in `[from, to)`: its time to first byte above the control
    /// path's median (µs), or nil when fewer than `minimumProbes` ran there.
    package func worstExcessUs(fromUs from: UInt32, toUs to: UInt32) -> UInt32? {
        let inSpan = probeWaits[probeTimes.insertionIndex(of: from)..<probeTimes.insertionIndex(of: max(from, to))]
        guard inSpan.count >= Self.minimumProbes, let worst = inSpan.max() else { return nil }
        return worst > medianUs ? worst - medianUs : 0
    }
}
