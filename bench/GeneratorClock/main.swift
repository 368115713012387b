import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore
import MockUpstream
import Synchronization

/// `bench/generator-clock.sh`'s runner (issue 13, point 3): does the work a suite run
/// puts in the generator's process disturb the generator's clock? One open-model load of
/// the canary-promote mix at RATE for SECONDS, in one of these set-ups:
///
/// - `separate URL`: the mock runs in another process (the script starts it); the
///   process holds only the generator: the reference;
/// - `in-process`: the mock runs in this process, on the NIO threads, as in a suite run;
/// - `suite`: in-process mock, plus what else a suite run does during the load: the
///   control probe's generator thread and a progress snapshot every second, printed;
/// - `busy-task`: `suite` plus CPU work on Swift's cooperative pool for the whole load,
///   the worst case for report work (a suite writes its reports only after the load).
///
/// Prints one JSON line: the lag percentiles over all requests and the worst 100 ms.
/// Usage: generator-clock-bench separate URL|in-process|suite|busy-task RATE SECONDS
let arguments = Array(CommandLine.arguments.dropFirst())
let modes = ["separate", "in-process", "suite", "busy-task"]
guard let mode = arguments.first, modes.contains(mode) else {
    FileHandle.standardError.write(Data("usage: generator-clock-bench separate URL|in-process|suite|busy-task RATE SECONDS\n".utf8))
    exit(2)
}
let rest = mode == "separate" ? Array(arguments.dropFirst(2)) : Array(arguments.dropFirst())
guard rest.count == 2, let rate = Double(rest[0]), let seconds = Double(rest[1]), rate > 0, seconds > 0, mode != "separate" || arguments.count == 4 else {
    FileHandle.standardError.write(Data("generator-clock-bench: expected RATE and SECONDS (and a URL for separate)\n".utf8))
    exit(2)
}

/// One measurement, in a function so that its tasks capture locals, not globals.
func measure(mode: String, url given: String?, rate: Double, seconds: Double) async throws {
    var mock: MockUpstream?
    var control: MockUpstream?
    let url: String
    if let given {
        url = given
    } else {
        let upstream = MockUpstream(configuration: MockConfiguration(name: "blue", seed: 1, models: ["gpt-4.1", "deepseek-v3.2"]))
        try await upstream.start()
        mock = upstream
        url = upstream.url
    }
    if mode == "suite" || mode == "busy-task" {
        let probe = MockUpstream(configuration: MockConfiguration(name: "control", seed: 2, models: MockConfiguration.defaultModels))
        try await probe.start()
        control = probe
    }

    var plan = LoadPlan(url: url, model: .open(rate: rate), duration: .seconds(seconds))
    plan.sessions = 2_000
    plan.mix = [
        .init(endpoint: .chat, weight: 70, maxTokens: 16), .init(endpoint: .chatStream, weight: 20, maxTokens: 32), .init(endpoint: .models, weight: 10),
    ]
    plan.models = [("gpt-4.1", 1), ("deepseek-v3.2", 1)]
    plan.seed = 42
    let clock = RunClock()
    let progress = LoadProgress()
    let busy = Atomic(false)

    async let load = LoadGenerator.run(plan, clock: clock, progress: progress)
    var probes: Task<LoadResult, Never>?
    var display: Task<Void, Never>?
    var burner: Task<Int, Never>?
    if let control {
        var probePlan = LoadPlan(url: control.url, model: .open(rate: 50), duration: .seconds(seconds))
        probePlan.sessions = 1
        probePlan.mix = [.init(endpoint: .models, weight: 1)]
        let probeClock = clock
        probes = Task { await LoadGenerator.run(probePlan, clock: probeClock) }
        display = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                FileHandle.standardError.write(Data("\r  \(progress.sent) sent  ok \(progress.ok)  dropped \(progress.dropped)   ".utf8))
            }
        }
    }
    if mode == "busy-task" {
        burner = Task.detached {
            // Sorting and encoding, the report's kind of work, until the load ends.
            var rounds = 0
            var values = (0..<200_000).map { UInt32(truncatingIfNeeded: $0 &* 2_654_435_761) }
            while !busy.load(ordering: .relaxed) {
                values.shuffle()
                values.sort()
                _ = try? JSONEncoder().encode(Array(values.prefix(5_000)))
                rounds += 1
            }
            return rounds
        }
    }
    let result = await load
    busy.store(true, ordering: .relaxed)
    display?.cancel()
    _ = await probes?.value
    _ = await burner?.value
    await mock?.shutdown()
    await control?.shutdown()

    let sent = result.ledger.records.filter { $0.outcome != .notSent }
    let lags = sent.map(\.lagUs).sorted()
    func at(_ q: Double) -> Double { lags.isEmpty ? 0 : Double(lags[min(lags.count - 1, Int(Double(lags.count) * q))]) / 1000 }
    var worst = 0.0
    var windowStart = 0
    for index in sent.indices where index == sent.count - 1 || sent[index + 1].intendedUs / 100_000 != sent[windowStart].intendedUs / 100_000 {
        let window = sent[windowStart...index].map(\.lagUs).sorted()
        worst = max(worst, Double(window[min(window.count - 1, Int(Double(window.count) * 0.99))]) / 1000)
        windowStart = index + 1
    }
    let notSent = result.ledger.records.count - sent.count
    let ok = sent.filter { $0.outcome == .ok }.count
    print(
        String(
            format:
                #"{"mode":"%@","rate":%.0f,"sent":%d,"ok":%d,"not_sent":%d,"achieved_rps":%.1f,"lag_p50_ms":%.3f,"lag_p99_ms":%.3f,"lag_max_ms":%.3f,"worst_100ms_p99_ms":%.3f}"#,
            mode, rate, sent.count, ok, notSent, Double(sent.count) / result.elapsedSeconds, at(0.5), at(0.99), Double(lags.last ?? 0) / 1000, worst))
}

try await measure(mode: mode, url: mode == "separate" ? arguments[1] : nil, rate: rate, seconds: seconds)
