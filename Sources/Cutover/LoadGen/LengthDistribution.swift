import ConfigInput
import Foundation

/// How long one request's output (`max_tokens`) or prompt (bytes) is, drawn per request from
/// the request's own seeded uniforms, so a seed replays every length. LLM traffic is not one
/// size: the benchmarks (vLLM `bench serve`, AIPerf, inference-perf) draw lengths from
/// uniform, lognormal or empirical distributions, and so does this.
package enum LengthDistribution: Sendable, Equatable {
    case fixed(Int)
    case uniform(min: Int, max: Int)
    /// `median · e^(sigma·Z)`, clamped to `min...max`.
    case lognormal(median: Double, sigma: Double, min: Int, max: Int)
    /// An empirical table: each value with its weight.
    case table([Entry])

    /// One row of an empirical table.
    package struct Entry: Sendable, Equatable {
        package var value: Int
        package var weight: Double

        package init(value: Int, weight: Double) {
            self.value = value
            self.weight = weight
        }
    }

    /// A sample from two independent uniforms in [0, 1).
    package func sample(_ u1: Double, _ u2: Double) -> Int {
        switch self {
        case .fixed(let value):
            return value
        case .uniform(let low, let high):
            return low + Int((Double(high - low + 1) * u1).rounded(.down)).clamped(to: 0...(high - low))
        case .lognormal(let median, let sigma, let low, let high):
            let r = (-2 * log(Swift.max(u1, .leastNonzeroMagnitude))).squareRoot()
            let z = r * cos(2 * .pi * u2)
            return Int((median * exp(sigma * z)).rounded()).clamped(to: low...high)
        case .table(let entries):
            var x = u1 * entries.reduce(0) { $0 + $1.weight }
            for entry in entries {
                x -= entry.weight
                if x < 0 { return entry.value }
            }
            return entries.last?.value ?? 0
        }
    }

    /// The smallest and largest value a sample can take.
    package var bounds: ClosedRange<Int> {
        switch self {
        case .fixed(let value): value...value
        case .uniform(let low, let high): low...high
        case .lognormal(_, _, let low, let high): low...high
        case .table(let entries): (entries.map(\.value).min() ?? 0)...(entries.map(\.value).max() ?? 0)
        }
    }

    /// Reads `16`, `{type: fixed, value: 16}`, `{type: uniform, min: 200, max: 2000}`,
    /// `{type: lognormal, median: 300, sigma: 0.8, min: 1, max: 4000}` or
    /// `{type: table, values: [[100, 3], [1000, 1]]}` (value, weight); every value in `range`.
    package static func parse(_ node: ConfigNode, range: ClosedRange<Int>) throws(ConfigError) -> LengthDistribution {
        if case .int = node.value { return .fixed(try node.int(in: range)) }
        guard case .object = node.value else {
            throw node.error("expected a number or a distribution such as {type: uniform, min: 200, max: 2000}, got \(node.kindName)")
        }
        guard let typeNode = try node.object(allowed: ["type", "value", "min", "max", "median", "sigma", "values"])["type"] else {
            throw node.error("missing 'type' (fixed|uniform|lognormal|table)")
        }
        let type = try typeNode.choice(["fixed", "uniform", "lognormal", "table"])
        let fields: [String: ConfigNode]
        switch type {
        case "fixed":
            fields = try node.object(allowed: ["type", "value"])
            guard let value = fields["value"] else { throw node.error("a fixed length needs 'value'") }
            return .fixed(try value.int(in: range))
        case "uniform":
            fields = try node.object(allowed: ["type", "min", "max"])
            guard let low = fields["min"], let high = fields["max"] else { throw node.error("a uniform length needs 'min' and 'max'") }
            let lowValue = try low.int(in: range)
            let highValue = try high.int(in: range)
            guard lowValue <= highValue else { throw high.error("expected 'max' at least 'min' (\(lowValue)), got \(highValue)") }
            return .uniform(min: lowValue, max: highValue)
        case "lognormal":
            fields = try node.object(allowed: ["type", "median", "sigma", "min", "max"])
            guard let median = fields["median"], let sigma = fields["sigma"] else { throw node.error("a lognormal length needs 'median' and 'sigma'") }
            let medianValue = try median.double(in: Double(range.lowerBound)...Double(range.upperBound))
            let low = try fields["min"]?.int(in: range) ?? range.lowerBound
            let high = try fields["max"]?.int(in: range) ?? Swift.min(range.upperBound, Int(medianValue * 20))
            guard low <= high else { throw (fields["max"] ?? node).error("expected 'max' at least 'min' (\(low)), got \(high)") }
            return .lognormal(median: medianValue, sigma: try sigma.double(in: 0...5), min: low, max: high)
        default:
            fields = try node.object(allowed: ["type", "values"])
            guard let values = fields["values"] else { throw node.error("a table needs 'values': [[value, weight], ...]") }
            var entries: [Entry] = []
            for row in try values.array() {
                let pair = try row.array()
                guard pair.count == 2 else { throw row.error("expected [value, weight], got \(pair.count) items") }
                entries.append(Entry(value: try pair[0].int(in: range), weight: try pair[1].double(in: 0.000_001...1e9)))
            }
            guard !entries.isEmpty else { throw values.error("expected at least one [value, weight]") }
            return .table(entries)
        }
    }
}

extension Comparable {
    fileprivate func clamped(to range: ClosedRange<Self>) -> Self { Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}
