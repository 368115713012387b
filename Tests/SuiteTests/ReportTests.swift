import ConfigInput
import CurlHTTP
import Foundation
import HTTPServerCore
import Testing

@testable import Cutover

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Reports render what the run holds: verdicts, exit codes, JUnit that CI tools parse
/// (escaped), and a certification that fails or is invalid when any suite is.
@Suite("Reports")
struct ReportTests {
    static func run(_ name: String, checks: [CheckResult], invalid: String? = nil) throws -> SuiteRun {
        let suite = try Suite.parse(
            yaml: "name: \(name)\nduration: 2s\nload: {rate: 10}\ntimeline: [{at: 0s, phase: baseline}]\nchecks: [ZeroDropped]\n", source: "test")
        let records = (0..<20).map { seq -> LedgerRecord in
            var r = LedgerRecord.notSent(seq: UInt32(seq), session: UInt32(seq), intendedUs: UInt32(seq) * 100_000, endpoint: .chat)
            r.sentUs = r.intendedUs
            r.doneUs = r.sentUs + 1_000
            r.status = 200
            r.outcome = .ok
            r.servedBy = seq % 2 == 0 ? .blue : .green
            return r
        }
        let ledger = ClientLedger(runID: name, records: records, faultStamps: ["none"])
        let history = RunHistory(
            client: ledger, upstream: [:], phases: [.init(name: "baseline", startUs: 0, endUs: 2_000_000, greenWeight: 0)],
            actions: [ActionRecord(action: .canary(percent: 10), calledUs: 500_000, returnedUs: 502_000, accepted: false, detail: "refused <green down>")])
        return SuiteRun(
            suite: suite, seed: 1, build: RouterBuild(profile: "reference", version: "1.0", sha256: String(repeating: "a", count: 64), executable: "/x"),
            reconciled: ReconciledRun(history), summary: LoadSummary(ledger: ledger, elapsedSeconds: 2), checks: checks,
            log: ["0.000s phase baseline"], startedAt: Date(), elapsedSeconds: 2, harnessProblems: invalid.map { [$0] } ?? [])
    }

    static let pass = CheckResult(
        name: "ZeroDropped", status: .pass, summary: "0 of 20",
        evidence: ZeroDropped.Evidence(requests: 20, dropped: 0, routerError: 0, transport: 0, requestIDs: [], examples: []))
    static let fail = CheckResult(
        name: "Stickiness", status: .fail, summary: "3 sessions split <\"&'>",
        evidence: Stickiness.Evidence(sessions: 10, repeatedSessions: 10, splitSessions: 3, examples: ["s1 & s2 <x>"]))
    static let skipped = CheckResult(
        name: "EnvironmentHeader", status: .skipped, summary: "no header", evidence: EnvironmentHeader.Evidence(compared: 0, disagreed: 0, examples: []))
    static let inconclusive = CheckResult(
        name: "HealthGate", status: .inconclusive, summary: "no gated canary",
        evidence: HealthGate.Evidence(gatedCanaries: 0, greenServedWhileGated: 0, problems: []))

    @Test func verdictsAndExitCodes() throws {
        #expect(try Self.run("a", checks: [Self.pass, Self.skipped]).verdict == .pass)
        #expect(try Self.run("a", checks: [Self.pass, Self.fail]).verdict.exitCode == 1)
        #expect(try Self.run("a", checks: [Self.pass], invalid: "generator behind").verdict.exitCode == 3)
        // A listed check that could not judge never passes: the run is invalid.
        let unjudged = try Self.run("a", checks: [Self.pass, Self.inconclusive])
        #expect(unjudged.verdict == .invalid && unjudged.invalidReason?.contains("HealthGate") == true)
        // A proven defect outweighs a check that could not judge.
        #expect(try Self.run("a", checks: [Self.fail, Self.inconclusive]).verdict == .fail)
    }

    @Test func junitParsesWithOneTestcasePerCheckAndEscapedText() throws {
        let xml = JUnitReport.xml([try Self.run("a", checks: [Self.pass, Self.fail, Self.skipped, Self.inconclusive])])
        let counter = ElementCounter()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = counter
        #expect(parser.parse(), "\(xml)")
        #expect(counter.counts["testcase"] == 4 && counter.counts["failure"] == 1 && counter.counts["skipped"] == 1 && counter.counts["error"] == 1)
        #expect(counter.failureMessage == "3 sessions split <\"&'>")
        #expect(xml.contains(#"failures="1""#) && xml.contains(#"skipped="1""#) && xml.contains(#"errors="1""#))
        // The failure's text is the typed evidence as JSON.
        #expect(xml.contains("&quot;split_sessions&quot;:3"))
    }

    @Test func reportJSONAndHTMLCarryTheRun() throws {
        let run = try Self.run("a", checks: [Self.pass, Self.fail])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(RunReport.json(run).text.utf8)) as? [String: Any])
        #expect(object["verdict"] as? String == "fail" && object["seed"] as? Int == 1)
        #expect((object["router"] as? [String: Any])?["sha256"] as? String == String(repeating: "a", count: 64))
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.map { $0["status"] as? String } == ["pass", "fail"])
        #expect((checks[1]["evidence"] as? [String: Any])?["split_sessions"] as? Int == 3)
        #expect((object["actions"] as? [[String: Any]])?.first?["accepted"] as? Bool == false)
        // The machine's evidence: router path, (no) control path, generator lag.
        let machine = try #require(object["machine"] as? [String: Any])
        #expect((machine["router"] as? [String: Any])?["requests"] as? Int == 20 && machine["generator_lag_p99_ms"] != nil)
        #expect(TerminalReport.text(run).contains("generator lag p99") && HTMLReport.html(run).contains("control path p90"))
        #expect(JUnitReport.xml([run]).contains(#"property name="generator.lag.p99.ms""#))
        let html = HTMLReport.html(run)
        #expect(html.contains("FAIL") && html.contains("3 sessions split &lt;&quot;&amp;&apos;&gt;"))
        // The refused canary is a red marker on each of the four charts.
        #expect(html.components(separatedBy: "canary 10 % refused at 0.500s").count - 1 == 4)
        #expect(!html.contains("src=") && !html.contains("href="))
    }

    @Test func certificationFailsOrIsInvalidWhenAnySuiteIs() throws {
        let good = try Self.run("a", checks: [Self.pass, Self.skipped])
        let bad = try Self.run("b", checks: [Self.pass, Self.fail])
        #expect(Certification(set: "s", runs: [good, good], invalidSuites: []).verdict == .pass)
        let failed = Certification(set: "s", runs: [good, bad], invalidSuites: [])
        #expect(failed.verdict == .fail)
        #expect(failed.perCheck.first { $0.name == "Stickiness" }?.suites == ["b"])
        #expect(failed.perCheck.first { $0.name == "ZeroDropped" }?.status == .pass)
        #expect(failed.perCheck.first { $0.name == "ZeroDropped" }?.counts == [.pass: 2])
        #expect(failed.perCheck.first { $0.name == "Stickiness" }?.counts == [.fail: 1])
        // A set's JUnit carries a summary testsuite with each check's counts.
        let junit = JUnitReport.xml(failed.runs, set: failed)
        #expect(junit.contains("cutover.s.summary") && junit.contains("pass 2 · fail 0 · inconclusive 0"))
        #expect(failed.perCheck.first { $0.name == "EnvironmentHeader" }?.status == .skipped)
        #expect(failed.text.contains("OVERALL: FAIL") && failed.text.contains(String(repeating: "a", count: 64)))
        #expect(Certification(set: "s", runs: [good], invalidSuites: ["c"]).verdict == .invalid)
        // A fail anywhere fails the set, even beside an invalid suite.
        #expect(Certification(set: "s", runs: [good, bad], invalidSuites: ["c"]).verdict == .fail)
    }
}

/// Counts XML elements and keeps the first failure's message.
private final class ElementCounter: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]
    var failureMessage: String?

    func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        counts[element, default: 0] += 1
        if element == "failure", failureMessage == nil { failureMessage = attributes["message"] }
    }
}
