/// `junit.xml`: one testsuite per suite run, one testcase per check, so CI tools list each
/// check as a test (failures carry the summary and the evidence).
package enum JUnitReport {
    /// The runs, and for a set (a certification, or `--repeat N`) one more testsuite with a
    /// testcase per check that carries its pass / fail / inconclusive counts: failed when
    /// it failed in any run, an error when it could not judge in one.
    package static func xml(_ runs: [SuiteRun], set: Certification? = nil) -> String {
        var out = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        let failures = runs.flatMap(\.checks).filter { $0.status == .fail }.count
        out += #"<testsuites name="cutover" tests="\#(runs.flatMap(\.checks).count)" failures="\#(failures)">"# + "\n"
        for run in runs {
            let checks = run.checks
            out +=
                #"  <testsuite name="cutover.\#(MarkupText.escape(run.suite.name))" tests="\#(checks.count)" failures="\#(checks.filter { $0.status == .fail }.count)" errors="\#(checks.filter { $0.status == .inconclusive }.count)" skipped="\#(checks.filter { $0.status == .skipped }.count)" time="\#(String(format: "%.3f", run.elapsedSeconds))">"#
                + "\n"
            out += "    <properties>\n"
            for (name, value) in [
                ("router.profile", run.build.profile), ("router.version", run.build.version), ("router.sha256", run.build.sha256), ("seed", String(run.seed)),
                ("verdict", run.verdict.rawValue), ("machine", run.paths.text),
                ("generator.lag.p99.ms", String(run.paths.generatorLagP99Ms)),
                ("control.p99.ms", run.paths.control.map { String($0.p99Ms) } ?? "n/a"), ("router.p99.ms", String(run.paths.router.p99Ms)),
            ] {
                out += #"      <property name="\#(name)" value="\#(MarkupText.escape(value))"/>"# + "\n"
            }
            out += "    </properties>\n"
            for check in checks {
                out += #"    <testcase classname="cutover.\#(MarkupText.escape(run.suite.name))" name="\#(MarkupText.escape(check.name))" time="0">"#
                switch check.status {
                case .pass:
                    out += "<system-out>\(MarkupText.escape(check.summary))</system-out>"
                case .skipped:
                    out += #"<skipped message="\#(MarkupText.escape(check.summary))"/>"#
                case .inconclusive:
                    // Not a test failure, but not a pass either: JUnit's "error" (could not judge).
                    out += #"<error message="\#(MarkupText.escape(check.summary))" type="inconclusive">\#(MarkupText.escape(check.evidenceValue.text))</error>"#
                case .fail:
                    out +=
                        #"<failure message="\#(MarkupText.escape(check.summary))" type="\#(MarkupText.escape(check.name))">\#(MarkupText.escape(check.evidenceValue.text))</failure>"#
                }
                out += "</testcase>\n"
            }
            out += "  </testsuite>\n"
        }
        if let set { out += summary(set) }
        out += "</testsuites>\n"
        return out
    }

    private static func summary(_ set: Certification) -> String {
        let tallies = set.perCheck
        let name = MarkupText.escape("cutover.\(set.set).summary")
        var out =
            #"  <testsuite name="\#(name)" tests="\#(tallies.count)" failures="\#(tallies.filter { $0.status == .fail }.count)" errors="\#(tallies.filter { $0.status == .inconclusive }.count)" skipped="\#(tallies.filter { $0.status == .skipped }.count)">"#
            + "\n"
        for tally in tallies {
            let text = MarkupText.escape("\(tally.countText) in \(set.runs.count) runs")
            out += #"    <testcase classname="\#(name)" name="\#(MarkupText.escape(tally.name))" time="0">"#
            switch tally.status {
            case .fail:
                out +=
                    #"<failure message="\#(text)" type="\#(MarkupText.escape(tally.name))">failed in \#(MarkupText.escape(tally.suites.joined(separator: ", ")))</failure>"#
            case .inconclusive:
                out += #"<error message="\#(text)" type="inconclusive">could not judge in \#(MarkupText.escape(tally.suites.joined(separator: ", ")))</error>"#
            case .skipped: out += #"<skipped message="\#(text)"/>"#
            case .pass: out += "<system-out>\(text)</system-out>"
            }
            out += "</testcase>\n"
        }
        return out + "  </testsuite>\n"
    }
}
