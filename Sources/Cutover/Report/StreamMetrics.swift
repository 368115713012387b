import ConfigInput

/// What users ask of an LLM load tool, from the reconciled records, overall, per environment,
/// per phase and per second. The tools disagree on the words (vLLM's TPOT counts the first
/// token, GuideLLM's does not; LLMPerf's "ITL" includes TTFT), so each is defined once here
/// and in docs/load.md:
/// - time to headers: send → response headers (the router's delay shows here);
/// - TTFT: send → the first event with content (the model's first-token delay on top);
/// - ITL: (last token − first token) ÷ (tokens − 1), per stream: the first token left out;
/// - chunk gap: the same over content events, so a router that buffers or re-chunks moves it
///   and not ITL;
/// - longest gap: the longest wait between two events of a stream (a stall);
/// - tokens/s: 1 ÷ ITL;
/// - usage: streams whose `usage.completion_tokens` differs from the tokens received;
/// - goodput: the share of sent requests (not the abandoned ones) that were ok and, when the
///   suite sets an `slo`, met it (errors and truncations are misses).
package struct StreamMetrics: Encodable, Sendable {
    /// Targets a request must meet to count in goodput (`slo:` in a suite).
    package struct SLO: Sendable, Equatable, Encodable {
        package var firstTokenMs: Double?
        package var interTokenMs: Double?
        package var headersMs: Double?

        package init(firstTokenMs: Double? = nil, interTokenMs: Double? = nil, headersMs: Double? = nil) {
            self.firstTokenMs = firstTokenMs
            self.interTokenMs = interTokenMs
            self.headersMs = headersMs
        }
    }

    /// Nearest-rank percentiles of one measure, in milliseconds (tokens/s for that one).
    package struct Spread: Encodable, Sendable {
        package var count: Int
        package var p50: Double
        package var p90: Double
        package var p99: Double
        package var max: Double

        init?(_ values: [Double]) {
            guard !values.isEmpty else { return nil }
            let sorted = values.sorted()
            func at(_ q: Double) -> Double { sorted[Swift.min(sorted.count - 1, Swift.max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))] }
            count = sorted.count
            p50 = at(0.5)
            p90 = at(0.9)
            p99 = at(0.99)
            max = sorted[sorted.count - 1]
        }
    }

    /// The measures of one slice of the run.
    package struct Group: Encodable, Sendable {
        package var name: String
        package var sent: Int
        package var ok: Int
        package var streams: Int
        package var headersMs: Spread?
        package var firstTokenMs: Spread?
        package var interTokenMs: Spread?
        package var chunkGapMs: Spread?
        package var longestGapMs: Spread?
        package var tokensPerSecond: Spread?
        /// Streams that carried a usage chunk, and those whose count differed.
        package var usageChecked: Int
        package var usageMismatches: Int
        /// Sent requests that were ok and met the SLO, and their share.
        package var good: Int
        package var goodput: Double?

        init(name: String, records: some Sequence<LedgerRecord>, slo: SLO?) {
            self.name = name
            var sent = 0
            var ok = 0
            var streams = 0
            var headers: [Double] = []
            var first: [Double] = []
            var inter: [Double] = []
            var chunks: [Double] = []
            var longest: [Double] = []
            var rates: [Double] = []
            var checked = 0
            var mismatched = 0
            var good = 0
            for record in records where record.outcome != .notSent && record.outcome != .cancelled {
                sent += 1
                guard record.outcome == .ok else { continue }
                ok += 1
                if let value = record.headersUs { headers.append(Double(value) / 1000) }
                if record.endpoint == .chatStream {
                    streams += 1
                    if let value = record.firstTokenLatencyUs { first.append(Double(value) / 1000) }
                    if let value = record.interTokenUs { inter.append(value / 1000) }
                    if let value = record.chunkGapUs { chunks.append(value / 1000) }
                    if record.maxGapUs > 0 { longest.append(Double(record.maxGapUs) / 1000) }
                    if let value = record.tokensPerSecond { rates.append(value) }
                    if record.usageTokens > 0 {
                        checked += 1
                        if record.usageTokens != record.tokens { mismatched += 1 }
                    }
                }
                if Self.meets(record, slo) { good += 1 }
            }
            self.sent = sent
            self.ok = ok
            self.streams = streams
            headersMs = Spread(headers)
            firstTokenMs = Spread(first)
            interTokenMs = Spread(inter)
            chunkGapMs = Spread(chunks)
            longestGapMs = Spread(longest)
            tokensPerSecond = Spread(rates)
            usageChecked = checked
            usageMismatches = mismatched
            self.good = good
            goodput = sent > 0 ? Double(good) / Double(sent) : nil
        }

        /// An ok request within every target the SLO sets (a stream without a first token
        /// misses a TTFT target).
        static func meets(_ record: LedgerRecord, _ slo: SLO?) -> Bool {
            guard let slo else { return true }
            if let target = slo.headersMs, (record.headersUs.map { Double($0) / 1000 } ?? .infinity) > target { return false }
            guard record.endpoint == .chatStream else { return true }
            if let target = slo.firstTokenMs, (record.firstTokenLatencyUs.map { Double($0) / 1000 } ?? .infinity) > target { return false }
            if let target = slo.interTokenMs, let itl = record.interTokenUs, itl / 1000 > target { return false }
            return true
        }
    }

    /// TTFT and ITL of the streams that started in one second.
    package struct Second: Encodable, Sendable {
        package var second: Int
        package var streams: Int
        package var firstTokenP50Ms: Double
        package var firstTokenP99Ms: Double
        package var interTokenP50Ms: Double
        package var interTokenP99Ms: Double
    }

    package var slo: SLO?
    package var overall: Group
    package var byEnvironment: [Group]
    package var byPhase: [Group]
    package var perSecond: [Second]

    package init(_ run: ReconciledRun, slo: SLO?) {
        self.init(records: run.records, phases: run.phases, slo: slo)
    }

    init(records: [LedgerRecord], phases: [PhaseWindow], slo: SLO?) {
        self.slo = slo
        overall = Group(name: "all", records: records, slo: slo)
        byEnvironment = [ServedBy.blue, .green].map { env in Group(name: env.name, records: records.lazy.filter { $0.servedBy == env }, slo: slo) }
            .filter { $0.sent > 0 }
        byPhase = phases.map { phase in Group(name: phase.name, records: records.lazy.filter { phase.contains($0) }, slo: slo) }
        var seconds: [Int: (first: [Double], inter: [Double])] = [:]
        for record in records where record.outcome == .ok && record.endpoint == .chatStream {
            let second = Int(record.intendedUs / 1_000_000)
            if let value = record.firstTokenLatencyUs { seconds[second, default: ([], [])].first.append(Double(value) / 1000) }
            if let value = record.interTokenUs { seconds[second, default: ([], [])].inter.append(value / 1000) }
        }
        perSecond = seconds.keys.sorted().map { second in
            let values = seconds[second]!
            let first = Spread(values.first)
            let inter = Spread(values.inter)
            return Second(
                second: second, streams: values.first.count, firstTokenP50Ms: first?.p50 ?? 0, firstTokenP99Ms: first?.p99 ?? 0,
                interTokenP50Ms: inter?.p50 ?? 0, interTokenP99Ms: inter?.p99 ?? 0)
        }
    }

    /// Whether the run had streams to speak of.
    package var hasStreams: Bool { overall.streams > 0 }

    /// One line for the terminal.
    package var text: String {
        let g = overall
        func ms(_ spread: Spread?) -> String { spread.map { String(format: "p50 %.1f p99 %.1f ms", $0.p50, $0.p99) } ?? "n/a" }
        var parts = ["streams \(g.streams)", "TTFT \(ms(g.firstTokenMs))", "ITL \(ms(g.interTokenMs))", "chunk gap \(ms(g.chunkGapMs))"]
        if let rate = g.tokensPerSecond { parts.append(String(format: "tokens/s p50 %.1f", rate.p50)) }
        if g.usageChecked > 0 { parts.append("usage differs in \(g.usageMismatches) of \(g.usageChecked)") }
        if let goodput = g.goodput { parts.append(String(format: "goodput %.1f %%%@", goodput * 100, slo == nil ? "" : " (within the SLO)")) }
        return parts.joined(separator: " · ")
    }
}
