/// Nearest-rank percentiles of exact samples: the checks' and the report's one
/// definition (the smallest value with at least `q` of the samples at or below it).
enum Percentile {
    /// `q` in (0, 1]; nil when there are no samples.
    static func of<Value: BinaryInteger>(_ values: [Value], _ q: Double) -> Value? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[max(0, min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1))]
    }
}
