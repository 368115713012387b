import ArgumentParser
import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore

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

        @Option(
            help:
                "Carry the load in N shard processes on this machine, each a stripe of the one schedule; this process coordinates (timeline, control path, merge, checks)."
        )
        var shards: Int?

        @OptionGroup var shardOptions: ShardOptions

        @OptionGroup var coordinatorOptions: CoordinatorOptions

        func validate() throws {
            if let shards, !(1...(coordinatorOptions.coordinator ? Shard.maximumCount : 64)).contains(shards) {
                throw ValidationError("--shards: expected 1...\(coordinatorOptions.coordinator ? Shard.maximumCount : 64) shards, got \(shards)")
            }
            if shards != nil, shardOptions.shard != nil { throw ValidationError("--shards and --shard exclude each other: coordinate N shards, or be one") }
        }

        func run() async throws {
            let library = SuiteLibrary.locate()
            let suite = try library.suite(self.suite)
            if shardOptions.shard != nil {
                try await shardOptions.carry(suite, seed: seed ?? suite.seed)
                return
            }
            let router = try options.driver()
            let remote = try coordinatorOptions.remote(shards: shards, suiteFile: library.file(self.suite))
            SignalGuard.install()
            print("cutover run \(suite.name): \(suite.description)")
            fflush(nil)
            guard options.repetitions > 1 else {
                let outcome: SuiteRun
                do {
                    outcome = try await RunOptions.run(
                        suite, seed: seed, router: router,
                        shards: remote != nil
                            ? nil : shards.map { ShardProcesses(count: $0, executable: RunningExecutable.url, suiteFile: library.file(self.suite)) },
                        remote: remote)
                } catch {
                    FileHandle.standardError.write(Data("cutover: invalid run: \(error)\n".utf8))
                    throw ExitCode(3)
                }
                print("")
                print(TerminalReport.text(outcome))
                try options.writeReports([outcome], folders: ["."])
                throw ExitCode(outcome.verdict.exitCode)
            }
            var runs: [SuiteRun] = []
            var invalid: [String] = []
            for index in 0..<options.repetitions {
                let derived = SuiteRunner.seed(seed ?? suite.seed, repetition: index)
                print("[run \(index + 1)/\(options.repetitions)] seed \(derived)")
                fflush(nil)
                do {
                    let run = try await RunOptions.run(suite, seed: derived, router: router)
                    print(TerminalReport.text(run) + "\n")
                    runs.append(run)
                } catch {
                    print("INVALID: \(error)\n")
                    invalid.append("\(suite.name) (seed \(derived))")
                }
                fflush(nil)
            }
            let set = Certification(set: "\(suite.name) ×\(options.repetitions)", runs: runs, invalidSuites: invalid)
            print(set.text)
            try options.writeReports(runs, folders: runs.indices.map { "run-\($0 + 1)" }, set: set)
            throw ExitCode(set.verdict.exitCode)
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
            var folders: [String] = []
            var invalid: [String] = []
            let repetitions = options.repetitions
            for (index, suite) in suites.enumerated() {
                for repetition in 0..<repetitions {
                    let derived = SuiteRunner.seed(seed ?? suite.seed, repetition: repetition)
                    let which = repetitions > 1 ? " (run \(repetition + 1)/\(repetitions), seed \(derived))" : ""
                    print("[\(index + 1)/\(suites.count)] \(suite.name)\(which): \(suite.description)")
                    fflush(nil)
                    do {
                        let run = try await RunOptions.run(suite, seed: derived, router: router)
                        print(TerminalReport.text(run) + "\n")
                        fflush(nil)
                        runs.append(run)
                        folders.append(repetitions > 1 ? "\(suite.name)/run-\(repetition + 1)" : suite.name)
                    } catch {
                        print("INVALID: \(error)\n")
                        invalid.append(repetitions > 1 ? "\(suite.name) (seed \(derived))" : suite.name)
                    }
                }
            }
            let certification = Certification(set: set.name, runs: runs, invalidSuites: invalid)
            print(certification.text)
            try options.writeReports(runs, folders: folders, set: certification)
            throw ExitCode(certification.verdict.exitCode)
        }
    }
}

/// Flags shared by `run` and `certify`.
struct RunOptions: ParsableArguments {
    @Option(
        help:
            "Router profile: a name in suites/routers/ (reference: the bluegreen-router built beside cutover) or a profile file (kind reference, nginx, haproxy, exec or http)."
    )
    var router = "reference"

    @Option(name: .customLong("router-binary"), help: "The bluegreen-router executable to certify (default: the one beside cutover).")
    var routerBinary: String?

    @Option(name: .customLong("report-dir"), help: "Write report.json, junit.xml and report.html here.")
    var reportDir: String?

    @Flag(help: "Also write ledger.jsonl (one line per scheduled request) to the report folder.")
    var ledger = false

    @Option(
        name: .customLong("repeat"),
        help:
            "Run each suite N times with seeds derived from the given one, and count per check how many runs passed, failed and were inconclusive; a fail in any run fails the set."
    )
    var repetitions = 1

    func validate() throws {
        if ledger, reportDir == nil { throw ValidationError("--ledger: needs --report-dir, where ledger.jsonl is written") }
        guard (1...1_000).contains(repetitions) else { throw ValidationError("--repeat: expected 1...1000 runs, got \(repetitions)") }
    }

    /// The router profile `--router` names (a built-in name, a name in `suites/routers/`, or
    /// a profile file) and its driver; `--router-binary` only applies to a reference profile.
    func driver() throws -> any RouterDriver {
        let profile = try RouterProfile.resolve(router, suitesFolder: SuiteLibrary.locate().directory)
        guard profile.kind == .reference else {
            if routerBinary != nil { throw ValidationError("--router-binary: only for a reference profile; \(profile.name) is kind \(profile.kind.rawValue)") }
            return profile.driver()
        }
        let binary = profile.routerBinary(override: routerBinary.map { URL(fileURLWithPath: $0) })
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw ValidationError("\(routerBinary != nil ? "--router-binary" : "router profile \(profile.name)"): no executable at \(binary.path)")
        }
        return profile.driver(referenceBinary: binary)
    }

    /// Runs one suite with live progress; the progress line is finished however the run ends.
    static func run(
        _ suite: Suite, seed: UInt64?, router: any RouterDriver, shards: ShardProcesses? = nil, remote: RemoteShards? = nil
    ) async throws(SuiteRunner.EnvironmentError) -> SuiteRun {
        let display = ProgressDisplay()
        defer { display.finish() }
        var runner = SuiteRunner(suite: suite, seed: seed, router: router, observer: display.observe)
        if let shards { runner.load = shards }
        if let remote { runner.load = remote }
        return try await runner.run()
    }

    /// Writes each run's files into its folder (relative to the report folder; "." for a
    /// single run), and for a set its report.json, junit.xml and report.html with the counts.
    func writeReports(_ runs: [SuiteRun], folders: [String], set: Certification? = nil) throws {
        guard let reportDir else { return }
        let root = URL(fileURLWithPath: reportDir)
        for (run, folder) in zip(runs, folders) {
            try ReportWriter.write(run, to: folder == "." ? root : root.appendingPathComponent(folder), ledger: ledger)
        }
        if let set {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try (set.json.text + "\n").write(to: root.appendingPathComponent("report.json"), atomically: true, encoding: .utf8)
            try JUnitReport.xml(runs, set: set).write(to: root.appendingPathComponent("junit.xml"), atomically: true, encoding: .utf8)
            try SetReport.html(set, folders: folders).write(to: root.appendingPathComponent("report.html"), atomically: true, encoding: .utf8)
        }
        print("Reports in \(root.path) (open report.html in a browser)")
    }
}
