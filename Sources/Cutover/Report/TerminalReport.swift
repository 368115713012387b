import Foundation

/// The final table a person reads: the run in two lines, one row per check, the verdict.
package enum TerminalReport {
    package static func text(_ run: SuiteRun) -> String {
        let s = run.summary
        let dropped = s.outcomes[.routerError, default: 0] + s.outcomes[.transport, default: 0]
        let served = max(1, s.byEnvironment[.blue, default: 0] + s.byEnvironment[.green, default: 0])
        var lines: [String] = []
        lines.append(
            "\(run.suite.name) · router \(run.build.profile) \(run.build.version) (sha256 \(run.build.sha256.prefix(12))) · seed \(run.seed)")
        lines.append(
            String(
                format: "requests %d · ok %d · upstream faults %d · dropped %d · not sent %d · green %.1f %% · p50 %.2f ms · p99 %.2f ms",
                s.requests, s.outcomes[.ok, default: 0], s.outcomes[.upstreamFault, default: 0], dropped, s.outcomes[.notSent, default: 0],
                Double(s.byEnvironment[.green, default: 0]) * 100 / Double(served), Double(s.corrected.valueAtPercentile(50)) / 1000,
                Double(s.corrected.valueAtPercentile(99)) / 1000))
        lines.append(run.paths.text)
        if run.streams.hasStreams { lines.append(run.streams.text) }
        let width = max(22, (run.checks.map(\.name.count).max() ?? 0) + 2)
        lines.append("")
        lines.append("CHECK".padding(toLength: width, withPad: " ", startingAt: 0) + "RESULT        EVIDENCE")
        for check in run.checks {
            lines.append(
                check.name.padding(toLength: width, withPad: " ", startingAt: 0)
                    + check.status.rawValue.uppercased().padding(toLength: 14, withPad: " ", startingAt: 0)
                    + check.summary)
        }
        lines.append("")
        if let reason = run.invalidReason { lines.append("INVALID RUN: \(reason)") }
        lines.append("VERDICT: \(run.verdict.rawValue.uppercased())")
        return lines.joined(separator: "\n")
    }
}
