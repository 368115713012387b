import Foundation

/// `report.html`: one self-contained page (inline CSS and SVG, no external URL) with
/// throughput by environment per second and the phase and action markers, errors,
/// p50/p99 latency, and the check table with each check's evidence.
package enum HTMLReport {
    package static func html(_ run: SuiteRun) -> String {
        let series = SecondSeries(run.reconciled.records).seconds
        let verdictClass = run.verdict == .pass ? "pass" : run.verdict == .fail ? "fail" : "inconclusive"
        var out = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>cutover · \(e(run.suite.name)) · \(run.verdict.rawValue)</title>
            <style>
            body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1100px;color:#1f2937;padding:0 16px}
            h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px} .meta{color:#6b7280}
            .verdict{display:inline-block;padding:2px 10px;border-radius:4px;font-weight:700;color:#fff}
            .pass{background:#15803d} .fail{background:#b91c1c} .skipped{background:#6b7280} .inconclusive{background:#b45309}
            table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #e5e7eb;padding:6px 8px;text-align:left;vertical-align:top}
            td.status span{color:#fff;padding:1px 8px;border-radius:3px;font-size:12px;font-weight:700}
            pre{background:#f3f4f6;padding:8px;overflow:auto;font-size:12px;white-space:pre-wrap}
            svg text{font:11px system-ui,sans-serif;fill:#374151} .legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
            </style></head><body>
            <h1>\(e(run.suite.name)) <span class="verdict \(verdictClass)">\(run.verdict.rawValue.uppercased())</span></h1>
            <div class="meta">\(e(run.suite.description))</div>
            <div class="meta">router <b>\(e(run.build.profile))</b> \(e(run.build.version)) · sha256 <code>\(e(run.build.sha256.isEmpty ? "n/a" : run.build.sha256))</code> · seed \(run.seed) · started \(e(ISO8601DateFormatter().string(from: run.startedAt))) · \(String(format: "%.1f", run.elapsedSeconds)) s</div>

            """
        if let reason = run.invalidReason { out += "<p><b>Invalid run:</b> \(e(reason))</p>\n" }
        let s = run.summary
        out += "<p>\(s.requests) requests · ok \(s.outcomes[.ok, default: 0]) · upstream faults \(s.outcomes[.upstreamFault, default: 0]) · "
        out += "<b>dropped \(s.outcomes[.routerError, default: 0] + s.outcomes[.transport, default: 0])</b> · not sent \(s.outcomes[.notSent, default: 0]) · "
        out += "blue \(s.byEnvironment[.blue, default: 0]) · green \(s.byEnvironment[.green, default: 0])</p>\n"

        out += "<h2>Checks</h2>\n<table><tr><th>check</th><th>result</th><th>evidence</th></tr>\n"
        for check in run.checks {
            out +=
                "<tr><td>\(e(check.name))</td><td class=\"status\"><span class=\"\(check.status.rawValue)\">\(check.status.rawValue.uppercased())</span></td>"
            out += "<td>\(e(check.summary))<details><summary>evidence</summary><pre>\(e(pretty(check.evidenceValue.text)))</pre></details></td></tr>\n"
        }
        out += "</table>\n"

        let maxRate = max(1, series.map { $0.blue + $0.green + $0.upstreamFaults + $0.dropped + $0.notSent }.max() ?? 1)
        out += "<h2>Throughput by environment (requests per second, by intended send time)</h2>\n"
        out += legend([("#2563eb", "blue"), ("#16a34a", "green"), ("#f59e0b", "upstream fault"), ("#dc2626", "dropped"), ("#6b7280", "not sent")])
        out += chart(run, seconds: series.count, maxValue: Double(maxRate), unit: "req/s") { x, width, y in
            var bars = ""
            for (index, second) in series.enumerated() {
                var base = 0.0
                for (value, color) in [
                    (second.blue, "#2563eb"), (second.green, "#16a34a"), (second.upstreamFaults, "#f59e0b"), (second.dropped, "#dc2626"),
                    (second.notSent, "#6b7280"),
                ] where value > 0 {
                    let top = y(base + Double(value))
                    bars +=
                        "<rect x=\"\(f(x(Double(index)) + 0.5))\" y=\"\(f(top))\" width=\"\(f(max(1, width - 1)))\" height=\"\(f(y(base) - top))\" fill=\"\(color)\"/>"
                    base += Double(value)
                }
            }
            return bars
        }
        let maxErrors = max(1, series.map { $0.upstreamFaults + $0.dropped }.max() ?? 1)
        out += "<h2>Errors per second</h2>\n" + legend([("#f59e0b", "upstream fault (relayed)"), ("#dc2626", "dropped (router's fault)")])
        out += chart(run, seconds: series.count, maxValue: Double(maxErrors), unit: "req/s") { x, width, y in
            series.enumerated().map { index, second in
                let faultTop = y(Double(second.upstreamFaults))
                let dropTop = y(Double(second.upstreamFaults + second.dropped))
                return
                    "<rect x=\"\(f(x(Double(index)) + 0.5))\" y=\"\(f(faultTop))\" width=\"\(f(max(1, width - 1)))\" height=\"\(f(y(0) - faultTop))\" fill=\"#f59e0b\"/>"
                    + "<rect x=\"\(f(x(Double(index)) + 0.5))\" y=\"\(f(dropTop))\" width=\"\(f(max(1, width - 1)))\" height=\"\(f(faultTop - dropTop))\" fill=\"#dc2626\"/>"
            }.joined()
        }
        let maxLatency = max(1, series.map(\.p99Ms).max() ?? 1)
        out += "<h2>Latency from intended send time (ms, ok requests)</h2>\n" + legend([("#7c3aed", "p99"), ("#0ea5e9", "p50")])
        out += chart(run, seconds: series.count, maxValue: maxLatency, unit: "ms") { x, width, y in
            [(\SecondSeries.Second.p99Ms, "#7c3aed"), (\SecondSeries.Second.p50Ms, "#0ea5e9")].map { path, color in
                let points = series.enumerated().map { "\(f(x(Double($0) + 0.5))),\(f(y($1[keyPath: path])))" }.joined(separator: " ")
                return "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(points)\"/>"
            }.joined()
        }

        out += machine(run)
        if run.streams.hasStreams { out += streams(run) }

        out += "<h2>Timeline as carried out</h2>\n<pre>\(e(run.log.joined(separator: "\n")))</pre>\n"
        out += "<h2>Load</h2>\n<pre>\(e(run.summary.text(valid: run.invalidReason == nil)))</pre>\n"
        out += "<p class=\"meta\">Written by cutover. Times are on the load generator's clock, from the start of the load.</p>\n</body></html>\n"
        return out
    }

    /// The router path beside the control path (no router) and the generator's own lag,
    /// per second, with the noisy seconds shaded: a rise on the router path alone is the
    /// router's; a rise on all of them is the machine's.
    private static func machine(_ run: SuiteRun) -> String {
        let paths = run.paths
        let seconds = paths.seconds
        let lines: [(KeyPath<PathComparison.Second, Double>, String)] = [
            (\.routerExcessP90Ms, "#7c3aed"), (\.controlExcessP90Ms, "#ea580c"), (\.generatorLagP99Ms, "#6b7280"),
        ]
        let maxValue = max(paths.noiseBoundMs * 2, seconds.map { max($0.routerExcessP90Ms, $0.controlExcessP90Ms, $0.generatorLagP99Ms) }.max() ?? 1)
        var out = "<h2>Router path and control path (ms above each endpoint's median, per second)</h2>\n"
        out += "<p class=\"meta\">\(e(paths.text)). The control path probes a fault-free mock straight, with no router; "
        out +=
            "shaded seconds are noisy (control p90 excess or generator lag p99 above \(f(paths.noiseBoundMs)) ms), where no timing check blames the router.</p>\n"
        out += legend([("#7c3aed", "router path p90"), ("#ea580c", "control path p90"), ("#6b7280", "generator lag p99"), ("#fde68a", "noisy second")])
        out += chart(run, seconds: seconds.count, maxValue: maxValue, unit: "ms") { x, width, y in
            var svg = seconds.filter(\.noisy).map { second in
                "<rect x=\"\(f(x(Double(second.second))))\" y=\"\(f(y(maxValue)))\" width=\"\(f(width))\" height=\"\(f(y(0) - y(maxValue)))\" fill=\"#fde68a\" opacity=\"0.6\"/>"
            }.joined()
            for (path, color) in lines {
                let points = seconds.map { "\(f(x(Double($0.second) + 0.5))),\(f(y(min(maxValue, $0[keyPath: path]))))" }.joined(separator: " ")
                svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(points)\"/>"
            }
            return svg
        }
        return out
    }

    /// What LLM load tools report: TTFT and ITL per second of the streams' start, and the
    /// table of every measure per environment and phase.
    private static func streams(_ run: SuiteRun) -> String {
        let metrics = run.streams
        let seconds = metrics.perSecond
        var out = "<h2>Streams: time to first token and inter-token latency (ms, by the second they started)</h2>\n"
        out += "<p class=\"meta\">\(e(metrics.text))</p>\n"
        out += legend([("#7c3aed", "TTFT p99"), ("#0ea5e9", "TTFT p50"), ("#dc2626", "ITL p99"), ("#16a34a", "ITL p50")])
        let count = (seconds.map(\.second).max() ?? 0) + 1
        let maxValue = max(1, seconds.map { max($0.firstTokenP99Ms, $0.interTokenP99Ms) }.max() ?? 1)
        out += chart(run, seconds: count, maxValue: maxValue, unit: "ms") { x, _, y in
            let lines: [(KeyPath<StreamMetrics.Second, Double>, String)] = [
                (\.firstTokenP99Ms, "#7c3aed"), (\.firstTokenP50Ms, "#0ea5e9"), (\.interTokenP99Ms, "#dc2626"), (\.interTokenP50Ms, "#16a34a"),
            ]
            return lines.map { path, color in
                let points = seconds.map { "\(f(x(Double($0.second) + 0.5))),\(f(y($0[keyPath: path])))" }.joined(separator: " ")
                return "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(points)\"/>"
            }.joined()
        }
        func cell(_ spread: StreamMetrics.Spread?, _ digits: String = "%.1f") -> String {
            spread.map { String(format: "\(digits) / \(digits)", $0.p50, $0.p99) } ?? "–"
        }
        out += "<table><tr><th>slice</th><th>sent</th><th>streams</th><th>headers ms p50 / p99</th><th>TTFT ms</th><th>ITL ms</th>"
        out += "<th>chunk gap ms</th><th>longest gap ms</th><th>tokens/s</th><th>usage differs</th><th>goodput</th></tr>\n"
        for group in [metrics.overall] + metrics.byEnvironment + metrics.byPhase {
            out += "<tr><td>\(e(group.name))</td><td>\(group.sent)</td><td>\(group.streams)</td><td>\(cell(group.headersMs, "%.2f"))</td>"
            out += "<td>\(cell(group.firstTokenMs))</td><td>\(cell(group.interTokenMs))</td><td>\(cell(group.chunkGapMs))</td>"
            out += "<td>\(cell(group.longestGapMs))</td><td>\(cell(group.tokensPerSecond))</td><td>\(group.usageMismatches) of \(group.usageChecked)</td>"
            out += "<td>\(group.goodput.map { String(format: "%.1f %%", $0 * 100) } ?? "–")</td></tr>\n"
        }
        return out + "</table>\n"
    }

    /// An SVG frame (axes, phase and action markers) around `body`, which draws with the
    /// given x (second → px), bar width and y (value → px) mappings.
    private static func chart(
        _ run: SuiteRun, seconds: Int, maxValue: Double, unit: String, body: (_ x: (Double) -> Double, _ width: Double, _ y: (Double) -> Double) -> String
    ) -> String {
        let (w, h, left, right, top, bottom) = (1060.0, 240.0, 50.0, 10.0, 22.0, 24.0)
        let count = Double(max(1, seconds))
        let plotWidth = w - left - right
        let x = { (second: Double) in left + second / count * plotWidth }
        let y = { (value: Double) in top + (h - top - bottom) * (1 - min(1, value / maxValue)) }
        var svg = "<svg viewBox=\"0 0 \(f(w)) \(f(h))\" width=\"100%\" role=\"img\">"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(y(0)))\" x2=\"\(f(w - right))\" y2=\"\(f(y(0)))\" stroke=\"#9ca3af\"/>"
        for fraction in [0.0, 0.5, 1.0] {
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y(maxValue * fraction) + 4))\" text-anchor=\"end\">\(f(maxValue * fraction)) </text>"
        }
        svg += "<text x=\"4\" y=\"12\">\(unit)</text>"
        let tick = max(1, seconds / 12)
        for second in stride(from: 0, through: seconds, by: tick) {
            svg += "<text x=\"\(f(x(Double(second))))\" y=\"\(f(h - 6))\" text-anchor=\"middle\">\(second)s</text>"
        }
        svg += body(x, plotWidth / count, y)
        for phase in run.history.phases {
            let px = x(Double(phase.startUs) / 1e6)
            svg += "<line x1=\"\(f(px))\" y1=\"\(f(top - 4))\" x2=\"\(f(px))\" y2=\"\(f(y(0)))\" stroke=\"#111827\" stroke-dasharray=\"4 3\"/>"
            svg += "<text x=\"\(f(px + 3))\" y=\"\(f(top - 8))\">\(e(phase.name)) (\(phase.greenWeight) %)</text>"
        }
        for action in run.history.actions where action.action != .validate {
            let px = x(Double(action.calledUs) / 1e6)
            let color = action.accepted == (action.expect == .accepted) ? "#111827" : "#dc2626"
            svg +=
                "<path d=\"M\(f(px - 4)) \(f(y(0) + 8)) L\(f(px + 4)) \(f(y(0) + 8)) L\(f(px)) \(f(y(0) + 1)) Z\" fill=\"\(color)\"><title>\(e(action.action.label)) \(action.accepted ? "accepted" : "refused") at \(String(format: "%.3f", Double(action.calledUs) / 1e6))s</title></path>"
        }
        return svg + "</svg>\n"
    }

    private static func legend(_ items: [(String, String)]) -> String {
        "<div class=\"legend\">" + items.map { "<span style=\"background:\($0.0)\"></span>\(e($0.1))" }.joined() + "</div>\n"
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    private static func e(_ text: String) -> String { MarkupText.escape(text) }

    /// Evidence JSON, indented for reading.
    private static func pretty(_ json: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        else { return json }
        return String(decoding: data, as: UTF8.self)
    }
}
