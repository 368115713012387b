import Cutover
import CutoverTestSupport
import Foundation
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The named suites, end to end, exactly as a user runs them: `cutover run NAME` starts
/// the mocks and the reference router, and must pass and write its reports. `smoke` here;
/// the whole certification set, `canary-promote` and its 40 s among them, is `make certify`.
@Suite("Named suites", .serialized, .sharesTheMachine)
struct NamedSuiteTests {
    @Test(arguments: ["smoke"])
    func passesAgainstTheReferenceRouter(suite: String) async throws {
        let cutover = BuiltProduct.require("cutover")
        try #require(cutover.missing == nil, "\(cutover.missing ?? "")")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }

        let result = try await Executable.runOnItsOwnThread(
            cutover.url, ["run", suite, "--report-dir", dir.path, "--ledger"], environment: ["CUTOVER_SUITES": BuiltProduct.suites.path])
        #expect(result.status == 0, "\(result.out)\n\(result.err)")
        #expect(result.out.contains("VERDICT: PASS"))

        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("report.json"))) as? [String: Any])
        #expect(report["suite"] as? String == suite)
        #expect(report["verdict"] as? String == "pass")
        let router = try #require(report["router"] as? [String: Any])
        #expect(router["profile"] as? String == "reference")
        #expect((router["sha256"] as? String)?.count == 64)
        let checks = try #require(report["checks"] as? [[String: Any]])
        #expect(checks.count >= 8)
        #expect(checks.allSatisfy { $0["status"] as? String != "fail" && $0["evidence"] is [String: Any] })
        #expect(checks.contains { $0["name"] as? String == "ZeroDropped" && $0["status"] as? String == "pass" })
        let phases = try #require(report["phases"] as? [[String: Any]])
        #expect(phases.first?["name"] as? String == "baseline")

        // Every scheduled request is a ledger line; the JUnit file parses with one testcase per check.
        let load = try #require(report["load"] as? [String: Any])
        let ledger = try String(contentsOf: dir.appendingPathComponent("ledger.jsonl"), encoding: .utf8)
        #expect(ledger.split(separator: "\n").count == load["requests"] as? Int)
        let junit = try Data(contentsOf: dir.appendingPathComponent("junit.xml"))
        let counter = TestcaseCounter()
        let parser = XMLParser(data: junit)
        parser.delegate = counter
        #expect(parser.parse())
        #expect(counter.testcases == checks.count && counter.failures == 0)

        // The HTML report is one file that loads nothing from anywhere.
        let html = try String(contentsOf: dir.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("ZeroDropped"))
        #expect(!html.contains("src=") && !html.contains("href=") && !html.contains("@import"))
    }

    /// `--repeat N` runs N times with derived seeds and counts each check's results.
    @Test func repeatCountsEachCheckAcrossRuns() async throws {
        let cutover = BuiltProduct.require("cutover")
        try #require(cutover.missing == nil, "\(cutover.missing ?? "")")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-repeat-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A short suite of its own: what is counted is the repetition, not the suite.
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let suite = dir.appendingPathComponent("twice.yaml")
        try """
        name: twice
        seed: 3
        duration: 3s
        load: {rate: 100, sessions: 200}
        timeline:
          - {at: 0s, phase: baseline}
          - {at: 1s, action: canary, percent: 20, phase: canary}
        checks: [ZeroDropped, NoDuplicateExecution, GeneratorValid]
        """.write(to: suite, atomically: true, encoding: .utf8)
        let result = try await Executable.runOnItsOwnThread(
            cutover.url, ["run", suite.path, "--repeat", "2", "--report-dir", dir.appendingPathComponent("reports").path])
        let reports = dir.appendingPathComponent("reports")
        #expect(result.status == 0, "\(result.out)\n\(result.err)")
        #expect(result.out.contains("[run 2/2] seed ") && result.out.contains("OVERALL: PASS"))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: reports.appendingPathComponent("report.json"))) as? [String: Any])
        let checks = try #require(report["checks"] as? [[String: Any]])
        let dropped = try #require(checks.first { $0["name"] as? String == "ZeroDropped" })
        #expect((dropped["counts"] as? [String: Int])?["pass"] == 2)
        let seeds = (report["suites"] as? [[String: Any]])?.compactMap { $0["seed"] as? Int } ?? []
        #expect(seeds.count == 2 && Set(seeds).count == 2)
        for run in ["run-1", "run-2"] {
            #expect(FileManager.default.fileExists(atPath: reports.appendingPathComponent("\(run)/report.html").path))
        }
        let junit = try String(contentsOf: reports.appendingPathComponent("junit.xml"), encoding: .utf8)
        #expect(junit.contains("summary") && junit.contains("pass 2"))
        let html = try String(contentsOf: reports.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("run-2/report.html"))
    }

    @Test func badInputExitsTwoNamingWhatAndWhere() throws {
        let cutover = BuiltProduct.require("cutover")
        try #require(cutover.missing == nil, "\(cutover.missing ?? "")")
        let environment = ["CUTOVER_SUITES": BuiltProduct.suites.path]
        let unknown = try Executable.run(cutover.url, ["run", "no-such-suite"], environment: environment)
        #expect(unknown.status == 2 && unknown.err.contains("no suite named 'no-such-suite'") && unknown.err.contains("smoke"))

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try "name: bad\nduration: 5s\nload: {rate: 10}\ntimeline:\n  - {at: 1s, action: explode}\nchecks: [ZeroDropped]\n".write(
            to: file, atomically: true, encoding: .utf8)
        let bad = try Executable.run(cutover.url, ["run", file.path], environment: environment)
        #expect(bad.status == 2 && bad.err.contains("\(file.path):5") && bad.err.contains("explode"), "\(bad.err)")

        let router = try Executable.run(cutover.url, ["run", "smoke", "--router", "no-such-router"], environment: environment)
        #expect(router.status == 2 && router.err.contains("--router") && router.err.contains("traefik"), "\(router.err)")
        let ledger = try Executable.run(cutover.url, ["run", "smoke", "--ledger"], environment: environment)
        #expect(ledger.status == 2 && ledger.err.contains("--report-dir"))

        // A router that cannot start makes the run invalid (3), not failed, and says how it ended.
        let dead = try Executable.run(cutover.url, ["run", "smoke", "--router-binary", "/bin/false"], environment: environment)
        #expect(dead.status == 3 && dead.err.contains("invalid run") && dead.err.contains("exited with status 1 before it was ready"), "\(dead.err)")

        let list = try Executable.run(cutover.url, ["list"], environment: environment)
        #expect(list.status == 0)
        for name in [
            "smoke", "canary-promote", "rollback", "green-outage-during-canary", "green-5xx-storm", "rate-limit-429", "latency-spike", "streaming-cutover",
            "health-gate", "flapping", "restart-persistence", "certification",
        ] {
            #expect(list.out.contains(name), "cutover list is missing \(name)")
        }
    }
}

/// Counts JUnit testcases and failures.
private final class TestcaseCounter: NSObject, XMLParserDelegate {
    var testcases = 0
    var failures = 0

    func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if element == "testcase" { testcases += 1 }
        if element == "failure" { failures += 1 }
    }
}

/// Ctrl-C stops the harness and every child it started.
@Suite("Interrupts", .serialized, .sharesTheMachine)
struct InterruptTests {
    /// `cutover run … | head`: the reader goes away mid-run. The run goes on to its end and
    /// stops the router (SIGPIPE would have killed cutover and left the router running).
    @Test func aReaderThatGoesAwayLeavesNoRouterBehind() async throws {
        let (process, output, router) = try Self.startSmokeAndFindItsRouter()
        defer { if process.isRunning { process.terminate() } }
        try output.fileHandleForReading.close()
        try await waitFor(timeout: .seconds(40)) { !process.isRunning }
        #expect(!process.isRunning, "cutover did not end after its reader left")
        #expect(process.terminationReason == .exit, "cutover was killed by signal \(process.terminationStatus)")
        try await waitFor(timeout: .seconds(5)) { kill(router, 0) != 0 }
        #expect(kill(router, 0) != 0, "the router (pid \(router)) outlived cutover")
    }

    /// `cutover run smoke` as a child of this test, once its router is up (its URL is
    /// printed): the process, its output, and the router's pid (its only child).
    static func startSmokeAndFindItsRouter() throws -> (Process, Pipe, Int32) {
        let cutover = BuiltProduct.require("cutover")
        try #require(cutover.missing == nil, "\(cutover.missing ?? "")")
        let process = Process()
        process.executableURL = cutover.url
        process.arguments = ["run", "smoke"]
        process.environment = ProcessInfo.processInfo.environment.merging(["CUTOVER_SUITES": BuiltProduct.suites.path]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        var seen = ""
        while !seen.contains("router http://") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            seen += String(decoding: data, as: UTF8.self)
        }
        let children = ProcessGroup.children(of: process.processIdentifier)
        guard children.count == 1 else {
            process.terminate()
            throw TestSetupError(description: "expected the router as the only child of cutover, found \(children)")
        }
        return (process, output, children[0])
    }

    struct TestSetupError: Error, CustomStringConvertible {
        var description: String
    }

    @Test func interruptStopsTheRouterAndExits130() async throws {
        let (process, _, router) = try Self.startSmokeAndFindItsRouter()
        defer { if process.isRunning { process.terminate() } }
        let children = [router]
        // Its scratch folder is named in its arguments (the state file's folder).
        let arguments = (try? String(contentsOfFile: "/proc/\(children[0])/cmdline", encoding: .utf8)) ?? ""
        let stateFile = try #require(arguments.split(separator: "\0").first { $0.hasSuffix("router-state.json") })
        let folder = URL(fileURLWithPath: String(stateFile)).deletingLastPathComponent()
        #expect(FileManager.default.fileExists(atPath: folder.path))
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        try await waitFor(timeout: .seconds(5)) { kill(children[0], 0) != 0 }
        #expect(!FileManager.default.fileExists(atPath: folder.path))
    }
}
