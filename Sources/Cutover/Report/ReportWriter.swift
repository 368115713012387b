import Foundation

/// Writes a run's files into a report folder: `report.json`, `junit.xml`, `report.html`
/// and, when asked, `ledger.jsonl` (one line per scheduled request).
public enum ReportWriter {
    public static func write(_ run: SuiteRun, to directory: URL, ledger: Bool) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try (RunReport.json(run).text + "\n").write(to: directory.appendingPathComponent("report.json"), atomically: true, encoding: .utf8)
        try JUnitReport.xml([run]).write(to: directory.appendingPathComponent("junit.xml"), atomically: true, encoding: .utf8)
        try HTMLReport.html(run).write(to: directory.appendingPathComponent("report.html"), atomically: true, encoding: .utf8)
        if ledger { try writeLedger(run, to: directory.appendingPathComponent("ledger.jsonl")) }
    }

    /// Streams the ledger out in blocks, so a million records never sit in one string.
    static func writeLedger(_ run: SuiteRun, to file: URL) throws {
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        let ledger = run.history.client
        var block = ""
        for record in ledger.records {
            block += ledger.jsonLine(record)
            block += "\n"
            if block.utf8.count > 1 << 20 {
                try handle.write(contentsOf: Data(block.utf8))
                block = ""
            }
        }
        try handle.write(contentsOf: Data(block.utf8))
    }
}
