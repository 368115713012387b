import Foundation

/// `report.html` of a set of runs (a certification, or one suite `--repeat N` times): the
/// verdict, each check's pass / fail / inconclusive counts, and a link to every run's own
/// page. One self-contained file: inline CSS, relative links only.
package enum SetReport {
    /// `folders` gives each run's report folder, relative to this page.
    package static func html(_ set: Certification, folders: [String]) -> String {
        func e(_ text: String) -> String { MarkupText.escape(text) }
        var out = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>cutover · \(e(set.set)) · \(set.verdict.rawValue)</title>
            <style>
            body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#1f2937;padding:0 16px}
            table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #e5e7eb;padding:6px 8px;text-align:left}
            .pass{color:#15803d} .fail{color:#b91c1c} .inconclusive{color:#b45309} .skipped{color:#6b7280} .invalid{color:#b45309}
            </style></head><body>
            <h1>\(e(set.set)) <span class="\(set.verdict.rawValue)">\(set.verdict.rawValue.uppercased())</span></h1>

            """
        if let build = set.runs.first?.build {
            out += "<p>router <b>\(e(build.profile))</b> \(e(build.version)) · sha256 <code>\(e(build.sha256.isEmpty ? "n/a" : build.sha256))</code></p>\n"
        }
        out += "<h2>Checks</h2>\n<table><tr><th>check</th><th>result</th><th>pass</th><th>fail</th><th>inconclusive</th><th>skipped</th></tr>\n"
        for tally in set.perCheck {
            out += "<tr><td>\(e(tally.name))</td><td class=\"\(tally.status.rawValue)\">\(tally.status.rawValue.uppercased())</td>"
            for status in [CheckResult.Status.pass, .fail, .inconclusive, .skipped] { out += "<td>\(tally.counts[status, default: 0])</td>" }
            out += "</tr>\n"
        }
        out += "</table>\n<h2>Runs</h2>\n<table><tr><th>suite</th><th>seed</th><th>verdict</th><th>why</th></tr>\n"
        for (run, folder) in zip(set.runs, folders) {
            out += "<tr><td><a href=\"\(e(folder))/report.html\">\(e(run.suite.name))</a></td><td>\(run.seed)</td>"
            out += "<td class=\"\(run.verdict.rawValue)\">\(run.verdict.rawValue)</td><td>\(e(run.invalidReason ?? ""))</td></tr>\n"
        }
        if !set.invalidSuites.isEmpty { out += "<tr><td colspan=\"4\">could not run: \(e(set.invalidSuites.joined(separator: ", ")))</td></tr>\n" }
        return out + "</table>\n</body></html>\n"
    }
}
