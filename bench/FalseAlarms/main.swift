import ConfigInput
import CurlHTTP
import Cutover
import CutoverTestSupport
import Foundation
import HTTPServerCore

/// `bench/false-alarms.sh`'s runner: one suite (default canary-promote) N times against
/// one router, with seeds derived as `--repeat` derives them, printing one JSON line per
/// run with every check's status. The script decides what else runs on the machine.
///
/// Usage: false-alarms-bench reference|slow-switch RUNS [SUITE] [FIRST-REPETITION]
let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2, let runs = Int(arguments[1]), runs > 0, ["reference", "slow-switch"].contains(arguments[0]) else {
    FileHandle.standardError.write(Data("usage: false-alarms-bench reference|slow-switch RUNS [SUITE] [FIRST-REPETITION]\n".utf8))
    exit(2)
}
let suiteName = arguments.count > 2 ? arguments[2] : "canary-promote"
let first = arguments.count > 3 ? Int(arguments[3]) ?? 0 : 0
let suite = try SuiteLibrary.locate().suite(suiteName)
let routerBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("bluegreen-router")

for repetition in first..<(first + runs) {
    let driver: any RouterDriver =
        arguments[0] == "reference" ? ReferenceRouter(executable: routerBinary) : FlawedRouter(.slowAfterSwitch(delay: .milliseconds(30)))
    let seed = SuiteRunner.seed(suite.seed, repetition: repetition)
    do {
        let run = try await SuiteRunner(suite: suite, seed: seed, router: driver).run()
        let checks = run.checks.map { "\"\($0.name)\":\"\($0.status.rawValue)\"" }.joined(separator: ",")
        print(#"{"router":"\#(arguments[0])","seed":\#(seed),"verdict":"\#(run.verdict.rawValue)","checks":{\#(checks)}}"#)
    } catch {
        print(#"{"router":"\#(arguments[0])","seed":\#(seed),"verdict":"invalid","checks":{}}"#)
    }
    fflush(nil)
}
