import Foundation

/// A finished suite run: what ran, against which router build, what happened, and the
/// verdict of every check. Reports are rendered from this value alone.
package struct SuiteRun: Sendable {
    package var suite: Suite
    package var seed: UInt64
    package var build: RouterBuild
    /// The run's history joined with the upstreams' evidence: what every report reads.
    package var reconciled: ReconciledRun
    package var history: RunHistory { reconciled.history }
    package var summary: LoadSummary
    package var checks: [CheckResult]
    /// The timeline as carried out, one line per step.
    package var log: [String]
    package var startedAt: Date
    package var elapsedSeconds: Double
    /// What kept the run from judging, whatever the checks say: the generator fell behind,
    /// a step the harness could not carry out, incomplete upstream ledgers.
    package var harnessProblems: [String]
    /// The router path beside the control path and the generator's lag, for the reports.
    package let paths: PathComparison
    /// TTFT, ITL, chunk gaps, tokens/s, usage and goodput (overall, per environment, phase
    /// and second).
    package let streams: StreamMetrics
    /// Requests and streams exposed to a router action: how hard the suite pressed.
    package let exposure: SwitchExposure

    package init(
        suite: Suite, seed: UInt64, build: RouterBuild, reconciled: ReconciledRun, summary: LoadSummary, checks: [CheckResult], log: [String],
        startedAt: Date, elapsedSeconds: Double, harnessProblems: [String] = []
    ) {
        self.suite = suite
        self.seed = seed
        self.build = build
        self.reconciled = reconciled
        self.summary = summary
        self.checks = checks
        self.log = log
        self.startedAt = startedAt
        self.elapsedSeconds = elapsedSeconds
        self.harnessProblems = harnessProblems
        self.paths = PathComparison(reconciled)
        self.streams = StreamMetrics(reconciled, slo: suite.slo)
        self.exposure = SwitchExposure(reconciled)
    }

    /// Why the run was invalid, when it was: the harness's problems, else the listed
    /// checks that could not judge.
    package var invalidReason: String? {
        if !harnessProblems.isEmpty { return harnessProblems.joined(separator: "; ") }
        let inconclusive = checks.filter { $0.status == .inconclusive }
        guard !inconclusive.isEmpty else { return nil }
        return "inconclusive: " + inconclusive.map { "\($0.name) (\($0.summary))" }.joined(separator: "; ")
    }

    /// A generator or harness failure makes every verdict void; otherwise a failed check
    /// fails the run, and a check that could not judge makes it invalid, never a pass.
    package var verdict: Verdict {
        if !harnessProblems.isEmpty { return .invalid }
        if checks.contains(where: { $0.status == .fail }) { return .fail }
        return checks.contains { $0.status == .inconclusive } ? .invalid : .pass
    }
}
