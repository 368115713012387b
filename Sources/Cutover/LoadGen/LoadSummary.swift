import Foundation
import HTTPServerCore
import Histogram

/// What a run amounted to: counts by outcome and environment, HDR latency histograms
/// (from the intended and from the actual send time), scheduling lag, a per-second series.
package struct LoadSummary: Sendable {
    package let requests: Int
    package let elapsedSeconds: Double
    package let outcomes: [Outcome: Int]
    package let byEnvironment: [ServedBy: Int]
    /// Latency from the intended send time, µs (coordinated omission corrected).
    package let corrected: Histogram<UInt64>
    /// Latency from the actual send time, µs.
    package let uncorrected: Histogram<UInt64>
    /// Corrected latency by environment, µs.
    package let correctedByEnvironment: [ServedBy: Histogram<UInt64>]
    /// How late slots were sent, µs.
    package let lag: Histogram<UInt64>
    /// Per second of the run: sent, ok, dropped, served by blue and by green.
    package let seconds: [Second]
    /// TTFT, ITL, chunk gaps, tokens/s and usage, when the run had streams.
    package let streams: StreamMetrics?
    /// Not-sent slots by why: the generator late with transfer slots free, every transfer
    /// slot held by a target that did not answer, no descriptor left for a socket.
    package let notSentLate: Int
    package let notSentHeldBack: Int
    package let notSentNoDescriptors: Int

    package struct Second: Sendable, Equatable {
        package var sent = 0
        package var ok = 0
        package var dropped = 0
        package var blue = 0
        package var green = 0
    }

    static func histogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }

    package init(ledger: ClientLedger, elapsedSeconds: Double) {
        var outcomes: [Outcome: Int] = [:]
        var byEnvironment: [ServedBy: Int] = [.blue: 0, .green: 0, .unknown: 0]
        var corrected = Self.histogram()
        var uncorrected = Self.histogram()
        var perEnvironment: [ServedBy: Histogram<UInt64>] = [:]
        var lag = Self.histogram()
        var seconds: [Second] = []
        var (late, held, descriptors) = (0, 0, 0)
        for record in ledger.records {
            outcomes[record.outcome, default: 0] += 1
            if record.outcome == .notSent {
                if record.descriptorsExhausted { descriptors += 1 } else if record.heldBack { held += 1 } else { late += 1 }
            }
            let second = Int(record.intendedUs / 1_000_000)
            if seconds.count <= second { seconds.append(contentsOf: repeatElement(Second(), count: second - seconds.count + 1)) }
            guard record.outcome != .notSent else { continue }
            byEnvironment[record.servedBy, default: 0] += 1
            _ = lag.record(UInt64(max(1, record.lagUs)))
            // An abandoned request's time is the client's choice, not the target's latency.
            if record.outcome != .cancelled {
                _ = corrected.record(UInt64(max(1, record.correctedLatencyUs)))
                _ = uncorrected.record(UInt64(max(1, record.latencyUs)))
                _ = perEnvironment[record.servedBy, default: Self.histogram()].record(UInt64(max(1, record.correctedLatencyUs)))
            }
            seconds[second].sent += 1
            if record.outcome == .ok { seconds[second].ok += 1 }
            if record.outcome.isDropped { seconds[second].dropped += 1 }
            if record.servedBy == .blue { seconds[second].blue += 1 }
            if record.servedBy == .green { seconds[second].green += 1 }
        }
        self.requests = ledger.records.count
        (notSentLate, notSentHeldBack, notSentNoDescriptors) = (late, held, descriptors)
        self.elapsedSeconds = elapsedSeconds
        self.outcomes = outcomes
        self.byEnvironment = byEnvironment
        self.corrected = corrected
        self.uncorrected = uncorrected
        self.correctedByEnvironment = perEnvironment
        self.lag = lag
        self.seconds = seconds
        let metrics = StreamMetrics(records: ledger.records, phases: [], slo: nil)
        self.streams = metrics.hasStreams ? metrics : nil
    }

    /// Requests that got an answer or a transport failure, per second of the run.
    package var throughput: Double {
        elapsedSeconds > 0 ? Double(requests - outcomes[.notSent, default: 0]) / elapsedSeconds : 0
    }

    static func ms(_ micros: UInt64) -> Double { (Double(micros) / 1_000 * 1_000).rounded() / 1_000 }

    /// `cutover load --json`.
    package func json(valid: Bool) -> JSON {
        func latency(_ h: Histogram<UInt64>) -> JSON {
            h.totalCount == 0
                ? .object([("p50", .null), ("p90", .null), ("p99", .null), ("p999", .null), ("max", .null)])
                : .object([
                    ("p50", .double(Self.ms(h.valueAtPercentile(50)))), ("p90", .double(Self.ms(h.valueAtPercentile(90)))),
                    ("p99", .double(Self.ms(h.valueAtPercentile(99)))), ("p999", .double(Self.ms(h.valueAtPercentile(99.9)))),
                    ("max", .double(Self.ms(h.max))),
                ])
        }
        return .object([
            ("requests", .int(requests)),
            ("duration_s", .double((elapsedSeconds * 1_000).rounded() / 1_000)),
            ("throughput_rps", .double((throughput * 10).rounded() / 10)),
            ("valid", .bool(valid)),
            ("outcomes", .object(Outcome.allCases.map { ($0.name, .int(outcomes[$0, default: 0])) })),
            ("not_sent", .object([("late", .int(notSentLate)), ("held_back", .int(notSentHeldBack)), ("no_descriptors", .int(notSentNoDescriptors))])),
            ("by_env", .object(ServedBy.allCases.reversed().map { ($0.name, .int(byEnvironment[$0, default: 0])) })),
            ("latency_ms", latency(corrected)),
            ("latency_uncorrected_ms", latency(uncorrected)),
            ("latency_by_env_ms", .object(ServedBy.allCases.compactMap { env in correctedByEnvironment[env].map { (env.name, latency($0)) } })),
            (
                "scheduling_lag_ms",
                .object([
                    ("p50", .double(Self.ms(lag.valueAtPercentile(50)))), ("p99", .double(Self.ms(lag.valueAtPercentile(99)))),
                    ("max", .double(Self.ms(lag.max))),
                ])
            ),
            (
                "per_second",
                .array(
                    seconds.map {
                        .object([
                            ("sent", .int($0.sent)), ("ok", .int($0.ok)), ("dropped", .int($0.dropped)), ("blue", .int($0.blue)), ("green", .int($0.green)),
                        ])
                    })
            ),
            ("streams", streams.flatMap { JSON.encoding($0) } ?? .null),
        ])
    }

    /// The human summary, in the spirit of wrk's and vegeta's.
    package func text(valid: Bool) -> String {
        func row(_ label: String, _ h: Histogram<UInt64>) -> String {
            guard h.totalCount > 0 else { return "  \(label.padding(toLength: 22, withPad: " ", startingAt: 0)) no samples" }
            let cells = [50.0, 90, 99, 99.9].map { String(format: "%9.2f", Self.ms(h.valueAtPercentile($0))) }.joined()
            return "  \(label.padding(toLength: 22, withPad: " ", startingAt: 0))\(cells)\(String(format: "%10.2f", Self.ms(h.max)))"
        }
        var lines: [String] = []
        lines.append(String(format: "Requests      %d in %.2fs, %.1f req/s", requests, elapsedSeconds, throughput))
        lines.append("Outcomes      " + Outcome.allCases.map { "\($0.name) \(outcomes[$0, default: 0])" }.joined(separator: ", "))
        lines.append(
            "Served by     blue \(byEnvironment[.blue, default: 0]), green \(byEnvironment[.green, default: 0]), unknown \(byEnvironment[.unknown, default: 0])"
        )
        lines.append("Latency (ms)                p50      p90      p99    p99.9       max")
        lines.append(row("from intended send", corrected))
        lines.append(row("from actual send", uncorrected))
        for env in [ServedBy.blue, .green] {
            if let h = correctedByEnvironment[env] { lines.append(row("\(env.name) (intended)", h)) }
        }
        lines.append(
            String(
                format: "Schedule lag  p50 %.3f ms, p99 %.3f ms, max %.3f ms", Self.ms(lag.valueAtPercentile(50)), Self.ms(lag.valueAtPercentile(99)),
                Self.ms(lag.max)))
        if let streams { lines.append("Streams       " + streams.text) }
        lines.append(valid ? "Run valid     yes" : "Run valid     NO: " + notSentText)
        return lines.joined(separator: "\n")
    }

    /// Why slots were not sent, in words.
    var notSentText: String {
        var reasons: [String] = []
        if notSentLate > 0 { reasons.append("the generator fell behind (\(notSentLate) not-sent slots)") }
        if notSentHeldBack > 0 { reasons.append("the target held every transfer slot (\(notSentHeldBack) slots never sent)") }
        if notSentNoDescriptors > 0 { reasons.append("the harness ran out of file descriptors (\(notSentNoDescriptors) requests)") }
        return reasons.joined(separator: "; ")
    }
}
