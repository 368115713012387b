/// When each slot of the open model is due: a constant rate, or a rate ramping
/// linearly from `rate` to `rampTo` over the run (like vegeta's pacers).
struct Pacer: Sendable {
    let rate: Double
    let rampTo: Double
    let durationSeconds: Double

    init(rate: Double, rampTo: Double?, duration: Duration) {
        self.rate = rate
        self.rampTo = rampTo ?? rate
        self.durationSeconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Seconds from the start at which slot `index` is due: solves N(t) = index, where
    /// N(t) = r0·t + (r1 − r0)·t² / (2D) is the number of arrivals by time t.
    func dueSeconds(_ index: Int) -> Double {
        let i = Double(index)
        if rampTo == rate { return i / rate }
        let a = (rampTo - rate) / (2 * durationSeconds)
        return (-rate + (rate * rate + 4 * a * i).squareRoot()) / (2 * a)
    }

    /// Microseconds from the start at which slot `index` is due.
    func dueMicros(_ index: Int) -> UInt64 { UInt64((dueSeconds(index) * 1_000_000).rounded()) }
}
