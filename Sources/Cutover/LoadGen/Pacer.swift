import Foundation
import MockUpstream

/// How the open model's arrivals come: evenly (wrk2's and vegeta's pace), or as the LLM
/// benchmarks offer them (vLLM `bench serve`, AIPerf, inference-perf): a Poisson process, or
/// a gamma process whose `burstiness` is the shape (1 is Poisson; below 1 burstier, above 1
/// more even). The mean rate is the plan's either way.
package enum Arrival: Sendable, Equatable {
    case constant
    case poisson
    case gamma(burstiness: Double)
}

/// When each slot of the open model is due: a constant rate, or a rate ramping linearly
/// from `rate` to `rampTo` over the run (like vegeta's pacers), paced from absolute
/// deadlines. Random arrivals are drawn once for the run (`ArrivalTimes`), so every thread
/// sees the same schedule and stripes it.
struct Pacer: Sendable {
    let rate: Double
    let rampTo: Double
    let durationSeconds: Double
    /// Slot i's arrival in units of the mean gap (i itself for constant arrivals).
    let arrivals: ArrivalTimes?

    init(rate: Double, rampTo: Double?, duration: Duration, arrivals: ArrivalTimes? = nil) {
        self.rate = rate
        self.rampTo = rampTo ?? rate
        self.durationSeconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        self.arrivals = arrivals
    }

    /// Seconds from the start at which slot `index` is due: solves N(t) = s, where s is the
    /// slot's arrival in units of the mean gap and N(t) = r0·t + (r1 − r0)·t² / (2D) is the
    /// expected number of arrivals by time t (time rescaling, so a ramp shapes random arrivals too).
    func dueSeconds(_ index: Int) -> Double {
        let s = arrivals?.units(index) ?? Double(index)
        if rampTo == rate { return s / rate }
        let a = (rampTo - rate) / (2 * durationSeconds)
        return (-rate + (rate * rate + 4 * a * s).squareRoot()) / (2 * a)
    }

    /// Microseconds from the start at which slot `index` is due.
    func dueMicros(_ index: Int) -> UInt64 { UInt64((max(0, dueSeconds(index)) * 1_000_000).rounded()) }
}

/// A run's random arrivals, drawn once from the seed: the running sum of `count` gaps with
/// mean 1 (exponential for Poisson, gamma with shape `burstiness` otherwise).
final class ArrivalTimes: Sendable {
    private let sums: [Double]

    init(count: Int, arrival: Arrival, seed: UInt64) {
        var sums: [Double] = []
        sums.reserveCapacity(count)
        var draw: UInt64 = 0
        func uniform() -> Double {
            draw += 1
            return SeededRandom.unit(seed: seed, stream: 8, index: draw)
        }
        var total = 0.0
        for _ in 0..<count {
            sums.append(total)
            switch arrival {
            case .constant: total += 1
            case .poisson: total += -log(1 - uniform())
            case .gamma(let shape): total += Self.gamma(shape: shape, uniform) / shape
            }
        }
        self.sums = sums
    }

    func units(_ index: Int) -> Double { index < sums.count ? sums[index] : sums.last.map { $0 + Double(index - sums.count + 1) } ?? Double(index) }

    /// A Gamma(shape, 1) variate (Marsaglia and Tsang; shapes below 1 by the boost
    /// Gamma(k) = Gamma(k + 1) · U^(1/k)).
    static func gamma(shape: Double, _ uniform: () -> Double) -> Double {
        if shape < 1 { return gamma(shape: shape + 1, uniform) * pow(max(uniform(), .leastNonzeroMagnitude), 1 / shape) }
        let d = shape - 1.0 / 3
        let c = 1 / (9 * d).squareRoot()
        while true {
            let x = (-2 * log(max(uniform(), .leastNonzeroMagnitude))).squareRoot() * cos(2 * .pi * uniform())
            let v = pow(1 + c * x, 3)
            guard v > 0 else { continue }
            let u = uniform()
            if u < 1 - 0.0331 * x * x * x * x || log(max(u, .leastNonzeroMagnitude)) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }
}
