import ArgumentParser
import ConfigInput
import Cutover
import Foundation

extension CutoverCommand {
    /// `cutover run`: one suite against a router, everything started on loopback.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one chaos suite against a router build and judge it.",
            discussion: """
                Starts blue and green mock upstreams and the router on loopback, drives the suite's load and \
                timeline, reconciles the ledgers and evaluates every check. Exit 0 when all checks pass, 1 when a \
                check failed, 2 for bad input, 3 when the run was invalid (the generator or the environment could \
                not deliver it).
                """)

        @Argument(help: "A suite name (see `cutover list`) or a suite file.")
        var suite: String

        @OptionGroup var options: RunOptions

        @Option(help: "Seed for every random choice (default: the suite's).")
        var seed: UInt64?

        func run() async throws {
            let library = SuiteLibrary.locate()
            let suite = try library.suite(self.suite)
            let router = try options.driver()
            SignalGuard.install()
            print("cutover run \(suite.name): \(suite.description)")
            fflush(nil)
            let outcome: SuiteRun
            do {
                outcome = try await RunOptions.run(suite, seed: seed, router: router)
            } catch {
                FileHandle.standardError.write(Data("cutover: invalid run: \(error)\n".utf8))
                throw ExitCode(3)
            }
            print("")
            print(TerminalReport.text(outcome))
            try options.writeReports([outcome], name: suite.name)
            throw ExitCode(outcome.verdict.exitCode)
        }
    }

    /// `cutover list`: the suites and sets with their descriptions.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the named suites and suite sets.")

        func run() async throws {
            let library = SuiteLibrary.locate()
            let names = library.names()
            guard !names.isEmpty else { throw ValidationError("no suites found in \(library.directory.path) (set CUTOVER_SUITES)") }
            let width = (names.map(\.count).max() ?? 0) + 2
            print("Suites in \(library.directory.path):")
            for name in names {
                let line: String
                do {
                    let suite = try library.suite(name)
                    line = "\(suite.description) (\(DurationText.format(suite.duration)))"
                } catch {
                    line = "INVALID: \(error)"
                }
                print("  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + line)
            }
            for name in library.setNames() {
                let set = try library.set(name)
                print("Set \(set.name): \(set.description)\n  " + set.suites.joined(separator: ", "))
            }
        }
    }

    /// `cutover certify`: the certification set, one verdict per check and overall.
    struct Certify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the certification set against a router build and print the verdict.",
            discussion: "Exit 0 when every suite passes, 1 when a check failed, 3 when a run was invalid, 2 for bad input.")

        @OptionGroup var options: RunOptions

        @Option(help: "Suite set to run.")
        var set = "certification"

        @Option(help: "Seed for every suite (default: each suite's own).")
        var seed: UInt64?

        func run() async throws {
            let library = SuiteLibrary.locate()
            let set = try library.set(self.set)
            var suites: [Suite] = []
            for name in set.suites { suites.append(try library.suite(name)) }
            let router = try options.driver()
            SignalGuard.install()
            var runs: [SuiteRun] = []
            var invalid: [String] = []
            for (index, suite) in suites.enumerated() {
                print("[\(index + 1)/\(suites.count)] \(suite.name): \(suite.description)")
                fflush(nil)
                do {
                    let run = try await RunOptions.run(suite, seed: seed, router: router)
                    print(TerminalReport.text(run) + "\n")
                    fflush(nil)
                    runs.append(run)
                } catch {
                    print("INVALID: \(error)\n")
                    invalid.append(suite.name)
                }
            }
            let certification = Certification(set: set.name, runs: runs, invalidSuites: invalid)
            print(certification.text)
            try options.writeReports(runs, name: set.name, certification: certification)
            throw ExitCode(certification.verdict.exitCode)
        }
    }
}

/// Flags shared by `run` and `certify`.
struct RunOptions: ParsableArguments {
    @Option(help: "Router profile: reference (the bluegreen-router built alongside cutover).")
    var router = "reference"

    @Option(name: .customLong("router-binary"), help: "The bluegreen-router executable to certify (default: the one beside cutover).")
    var routerBinary: String?

    @Option(name: .customLong("report-dir"), help: "Write report.json, junit.xml and report.html here.")
    var reportDir: String?

    @Flag(help: "Also write ledger.jsonl (one line per scheduled request) to the report folder.")
    var ledger = false

    func validate() throws {
        if ledger, reportDir == nil { throw ValidationError("--ledger: needs --report-dir, where ledger.jsonl is written") }
    }

    func driver() throws -> any RouterDriver {
        switch router {
        case "reference":
            let binary = routerBinary.map { URL(fileURLWithPath: $0) } ?? ReferenceRouter.besideCurrentExecutable()
            guard FileManager.default.isExecutableFile(atPath: binary.path) else {
                throw ValidationError("--router-binary: no executable at \(binary.path)")
            }
            return ReferenceRouter(executable: binary)
        default:
            throw ValidationError("--router: expected 'reference'; the nginx, haproxy, http and exec profiles are not in this build yet, got '\(router)'")
        }
    }

    /// Runs one suite with live progress; the progress line is finished however the run ends.
    static func run(_ suite: Suite, seed: UInt64?, router: any RouterDriver) async throws(SuiteRunner.EnvironmentError) -> SuiteRun {
        let display = ProgressDisplay()
        defer { display.finish() }
        return try await SuiteRunner(suite: suite, seed: seed, router: router, observer: display.observe).run()
    }

    /// Writes each run's files (one sub-folder per suite when there are several).
    func writeReports(_ runs: [SuiteRun], name: String, certification: Certification? = nil) throws {
        guard let reportDir else { return }
        let root = URL(fileURLWithPath: reportDir)
        for run in runs {
            let folder = certification == nil ? root : root.appendingPathComponent(run.suite.name)
            try ReportWriter.write(run, to: folder, ledger: ledger)
        }
        if let certification {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try (certification.json.text + "\n").write(to: root.appendingPathComponent("report.json"), atomically: true, encoding: .utf8)
            try JUnitReport.xml(runs).write(to: root.appendingPathComponent("junit.xml"), atomically: true, encoding: .utf8)
        }
        let html = certification == nil ? "report.html" : "<suite>/report.html"
        print("Reports in \(root.path) (open \(html) in a browser)")
    }
}
