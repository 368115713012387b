import Foundation

/// The outcome of ``Cutover/run(suite:router:seed:reportDirectory:)``: the verdict, every
/// check with its status and evidence, and the reports people and CI read.
public struct RunResult: Sendable {
    let run: SuiteRun

    init(_ run: SuiteRun) {
        self.run = run
    }

    /// `pass` only when every check passed (or was skipped); `invalid` when the run could
    /// not judge; `fail` when a check found a defect.
    public var verdict: Verdict { run.verdict }

    /// Every check the suite lists, in its order.
    public var checks: [CheckResult] { run.checks }

    /// The checks that failed.
    public var failures: [CheckResult] { run.checks.filter { $0.status == .fail } }

    /// The suite's name.
    public var suiteName: String { run.suite.name }

    /// The seed this run used: running the suite with it again replays its choices.
    public var seed: UInt64 { run.seed }

    /// The router build that was judged: profile, version and the executable's SHA-256.
    public var router: String {
        let build = run.build
        return "\(build.profile) \(build.version)" + (build.sha256.isEmpty ? "" : " (sha256 \(build.sha256.prefix(12)))")
    }

    /// Why the run could not judge, when its verdict is `invalid`.
    public var invalidReason: String? { run.invalidReason }

    /// What a test failure should say: the verdict, then each check that did not pass
    /// with its name, what it measured against which bound, and the first offending
    /// requests.
    ///
    /// ```text
    /// canary-promote (seed 42) against reference 0.1.0: FAIL, 1 of 8 checks failed
    ///   ✘ ZeroDropped: 3 of 12010 requests dropped (3 router errors, 0 transport); bound 0
    ///       canary-promote-42-000311 chat: router-error, status 502, …
    /// ```
    public var summary: String {
        let failed = failures.count
        let head = "\(suiteName) (seed \(seed)) against \(router): \(verdict.rawValue.uppercased())"
        var lines: [String]
        switch verdict {
        case .pass: lines = [head + ", \(checks.count) checks passed"]
        case .fail: lines = [head + ", \(failed) of \(checks.count) checks failed"]
        case .invalid: lines = [head + ": " + (invalidReason ?? "the run could not judge")]
        }
        for check in checks where check.status == .fail || check.status == .inconclusive {
            let mark = check.status == .fail ? "✘" : "?"
            lines.append("  \(mark) \(check.name)\(check.status == .inconclusive ? " (inconclusive)" : ""): \(check.summary)")
            lines += check.offendingRequests.prefix(Self.requestsShown).map { "      " + $0 }
        }
        return lines.joined(separator: "\n")
    }

    /// Offending requests a summary lists per check; the evidence has up to 20.
    static let requestsShown = 5

    /// The terminal report `cutover run` prints.
    public var report: String { TerminalReport.text(run) }

    /// report.json's text (SPEC §4).
    public var json: String { RunReport.json(run).text + "\n" }

    /// junit.xml's text: a test case per check.
    public var junitXML: String { JUnitReport.xml([run]) }

    /// report.html's text: one self-contained page.
    public var html: String { HTMLReport.html(run) }

    /// Writes report.json, junit.xml and report.html (and ledger.jsonl, one line per
    /// scheduled request, when `ledger` is true) into `directory`, creating it.
    public func writeReports(to directory: URL, ledger: Bool = false) throws {
        try ReportWriter.write(run, to: directory, ledger: ledger)
    }
}
