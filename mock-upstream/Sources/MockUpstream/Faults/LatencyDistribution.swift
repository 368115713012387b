import Foundation

/// A delay distribution in milliseconds. Samples are clamped to [0, cap] so a heavy
/// tail (pareto, lognormal) can never hold a connection open without bound.
public enum LatencyDistribution: Sendable, Equatable {
    /// Always `ms`.
    case fixed(ms: Double)
    /// Evenly between the two bounds.
    case uniform(minMs: Double, maxMs: Double)
    /// A bell around the mean, clamped to [0, cap].
    case normal(meanMs: Double, stddevMs: Double, capMs: Double)
    /// Skewed with a long tail, as real upstream latency is.
    case lognormal(medianMs: Double, sigma: Double, capMs: Double)
    /// A heavy tail: most fast, a few very slow.
    case pareto(scaleMs: Double, shape: Double, capMs: Double)

    /// The default upper clamp for unbounded distributions.
    package static let defaultCapMs: Double = 60_000

    /// A sample from two independent uniforms in [0, 1).
    package func sample(_ u1: Double, _ u2: Double) -> Double {
        switch self {
        case .fixed(let ms):
            return ms
        case .uniform(let minMs, let maxMs):
            return minMs + (maxMs - minMs) * u1
        case .normal(let mean, let stddev, let cap):
            return min(max(0, mean + stddev * Self.gaussian(u1, u2)), cap)
        case .lognormal(let median, let sigma, let cap):
            return min(median * exp(sigma * Self.gaussian(u1, u2)), cap)
        case .pareto(let scale, let shape, let cap):
            return min(scale / pow(1 - u1, 1 / shape), cap)
        }
    }

    /// Box–Muller: a standard normal variate.
    private static func gaussian(_ u1: Double, _ u2: Double) -> Double {
        let r = (-2 * log(max(u1, .leastNonzeroMagnitude))).squareRoot()
        return r * cos(2 * .pi * u2)
    }

    /// The smallest and largest value a sample can take.
    package var bounds: ClosedRange<Double> {
        switch self {
        case .fixed(let ms): ms...ms
        case .uniform(let lo, let hi): lo...hi
        case .normal(_, _, let cap): 0...cap
        case .lognormal(_, _, let cap): 0...cap
        case .pareto(let scale, _, let cap): min(scale, cap)...cap
        }
    }
}
