/// `junit.xml`: one testsuite per suite run, one testcase per check, so CI tools list each
/// check as a test (failures carry the summary and the evidence).
public enum JUnitReport {
    public static func xml(_ runs: [SuiteRun]) -> String {
        var out = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        let failures = runs.flatMap(\.checks).filter { $0.status == .fail }.count
        out += #"<testsuites name="cutover" tests="\#(runs.flatMap(\.checks).count)" failures="\#(failures)">"# + "\n"
        for run in runs {
            let checks = run.checks
            out +=
                #"  <testsuite name="cutover.\#(escape(run.suite.name))" tests="\#(checks.count)" failures="\#(checks.filter { $0.status == .fail }.count)" skipped="\#(checks.filter { $0.status == .skipped }.count)" time="\#(String(format: "%.3f", run.elapsedSeconds))">"#
                + "\n"
            out += "    <properties>\n"
            for (name, value) in [
                ("router.profile", run.build.profile), ("router.version", run.build.version), ("router.sha256", run.build.sha256), ("seed", String(run.seed)),
                ("verdict", run.verdict.rawValue),
            ] {
                out += #"      <property name="\#(name)" value="\#(escape(value))"/>"# + "\n"
            }
            out += "    </properties>\n"
            for check in checks {
                out += #"    <testcase classname="cutover.\#(escape(run.suite.name))" name="\#(escape(check.name))" time="0">"#
                switch check.status {
                case .pass:
                    out += "<system-out>\(escape(check.summary))</system-out>"
                case .skipped:
                    out += #"<skipped message="\#(escape(check.summary))"/>"#
                case .fail:
                    out += #"<failure message="\#(escape(check.summary))" type="\#(escape(check.name))">\#(escape(check.evidence.text))</failure>"#
                }
                out += "</testcase>\n"
            }
            out += "  </testsuite>\n"
        }
        out += "</testsuites>\n"
        return out
    }

    /// XML text and attribute escaping.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case let c where c.value < 0x20 && c != "\n" && c != "\t": out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
