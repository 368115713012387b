import Foundation

/// Writes a run's files into a report folder: `report.json`, `junit.xml`, `report.html`
/// and, when asked, `ledger.jsonl` (one line per scheduled request).
package enum ReportWriter {
    package static func write(_ run: SuiteRun, to directory: URL, ledger: Bool) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try (RunReport.json(run).text + "\n").write(to: directory.appendingPathComponent("report.json"), atomically: true, encoding: .utf8)
        try JUnitReport.xml([run]).write(to: directory.appendingPathComponent("junit.xml"), atomically: true, encoding: .utf8)
        try HTMLReport.html(run).write(to: directory.appendingPathComponent("report.html"), atomically: true, encoding: .utf8)
        if ledger { try run.reconciled.ledger.writeJSONLines(to: directory.appendingPathComponent("ledger.jsonl")) }
    }
}
