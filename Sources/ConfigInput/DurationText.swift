/// Durations written the way people write them: `250ms`, `5s`, `1.5s`, `2m`, `1h`.
package enum DurationText {
    /// Parses a duration with a unit; nil when the text is not one.
    package static func parse(_ text: some StringProtocol) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (unit, seconds) in units where text.hasSuffix(unit) {
            let number = text.dropLast(unit.count)
            guard let value = Double(number), value.isFinite, value >= 0, !number.hasPrefix("+") else { return nil }
            return .milliseconds(Int64((value * seconds * 1000).rounded()))
        }
        return nil
    }

    /// `1500ms` → `1.5s`, for messages and reports.
    package static func format(_ duration: Duration) -> String {
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        if ms < 1000 { return "\(Int(ms.rounded()))ms" }
        let seconds = ms / 1000
        return seconds == seconds.rounded() ? "\(Int(seconds))s" : "\((seconds * 1000).rounded() / 1000)s"
    }
}

extension ConfigNode {
    /// A duration such as `5s` or `250ms`.
    package func duration() throws(ConfigError) -> Duration {
        let text: String
        switch value {
        case .string(let s): text = s
        default: throw error("expected a duration such as 5s or 250ms, got \(kindName)")
        }
        guard let duration = DurationText.parse(text) else { throw error("expected a duration such as 5s or 250ms, got '\(text)'") }
        return duration
    }
}

extension Duration {
    /// Whole microseconds (negative durations count as zero): the ledger's unit of time.
    package var microseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000 + UInt64(attoseconds / 1_000_000_000_000)
    }

    /// Whole milliseconds, at least 1 for a positive duration (libcurl's timeouts take
    /// milliseconds, and 0 would mean none).
    package var milliseconds: Int {
        let micros = microseconds
        return micros == 0 ? 0 : max(1, Int(micros / 1_000))
    }
}
