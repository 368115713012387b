import ArgumentParser
import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore

extension CutoverCommand {
    /// `cutover load`: drive load at a target and summarise every request.
    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send load to a relay or router (open model: --rate; closed model: --connections) and summarise it.",
            discussion: """
                Every scheduled request is recorded; latency counts from the intended send time (coordinated \
                omission corrected) and from the actual send time. Exit 0 for a valid run, 3 when the generator \
                fell behind (not-sent slots), 2 for bad flags.
                """)

        @Option(help: "Base URL of the target, e.g. http://127.0.0.1:8080.")
        var url: String

        @Option(help: "Open model: requests per second.")
        var rate: Double?

        @Option(name: .customLong("ramp-to"), help: "Open model: ramp the rate linearly to this by the end.")
        var rampTo: Double?

        @Option(help: "Open model: constant, poisson, or gamma:B (B the burstiness: 1 is Poisson, below 1 burstier).")
        var arrival = "constant"

        /// `--arrival` as an `Arrival`, or nil when it is not one.
        var parsedArrival: Arrival? {
            switch arrival {
            case "constant": return .constant
            case "poisson": return .poisson
            default:
                guard arrival.hasPrefix("gamma:"), let burstiness = Double(arrival.dropFirst(6)), (0.01...100).contains(burstiness) else { return nil }
                return .gamma(burstiness: burstiness)
            }
        }

        @Option(name: .customLong("think-time"), help: "Closed model: each client's pause before its next request, e.g. 2s.")
        var thinkTime: String?

        @Option(help: "Requests per conversation: a session's next request carries the conversation so far.")
        var turns = 1

        @Option(name: .customLong("cancel-share"), help: "Share of streams the client abandons (0...1); see --cancel-after.")
        var cancelShare: Double?

        @Option(name: .customLong("cancel-after"), help: "When after its send a stream is abandoned, e.g. 2s.")
        var cancelAfter = "1s"

        @Option(help: "Closed model: concurrent clients.")
        var connections: Int?

        @Option(help: "How long, e.g. 10s.")
        var duration: String

        @Flag(help: "Streamed chat completions (default: plain chat completions).")
        var stream = false

        @Option(help: "Endpoint mix, e.g. chat:70,chat-stream:20,models:10 (overrides --stream).")
        var mix: String?

        @Option(help: "Session keys in the pool.")
        var sessions = 1_000

        @Option(help: "Relay model to ask for.")
        var model = "gpt-4.1"

        @Option(name: .customLong("max-tokens"), help: "Tokens per completion.")
        var maxTokens = 16

        @Option(help: "Generator threads, each with its own libcurl multi handle (default: one per core).")
        var threads = ProcessInfo.processInfo.activeProcessorCount

        @Option(name: .customLong("max-in-flight"), help: "Open model: most requests in flight at once.")
        var maxInFlight = 4_096

        @Option(help: "Seed for the endpoint, model and session choices.")
        var seed: UInt64 = 0

        @Option(help: "Per-request timeout, e.g. 30s.")
        var timeout = "30s"

        @Option(name: .customLong("connect-timeout"), help: "Limit on connecting, e.g. 5s (at most --timeout).")
        var connectTimeout = "5s"

        @Option(help: "Write the ledger, one JSON line per scheduled request, to this file.")
        var ledger: String?

        @Flag(help: "Print one JSON object instead of the summary.")
        var json = false

        @Option(
            help: "Carry only stripe K of N of the schedule (the slots whose index is K modulo N), e.g. 1/4; needs --part. `cutover merge` joins the parts.")
        var shard: String?

        @Option(
            name: .customLong("start-at"),
            help: "Start at this absolute time, so that every shard starts together: Unix seconds (1796421600.5) or ISO 8601 (2026-12-04T21:50:00Z).")
        var startAt: String?

        @Option(help: "Write this shard's ledger part (binary) to this file, for `cutover merge`.")
        var part: String?

        @Option(name: .customLong("run-id"), help: "Prefix of the request ids (default: load-SEED when sharded, else random); the same on every shard.")
        var runID: String?

        func validate() throws {
            guard url.hasPrefix("http://") else { throw ValidationError("--url: expected an http:// URL, got '\(url)'") }
            if let problem = LoadPlan.urlProblem(url) { throw ValidationError("--url: '\(url)' is not a URL libcurl can use: \(problem)") }
            switch (rate, connections) {
            case (nil, nil): throw ValidationError("give --rate R (open model) or --connections C (closed model)")
            case (.some, .some): throw ValidationError("--rate and --connections exclude each other: pick the open or the closed model")
            default: break
            }
            if let rate, !(rate > 0 && rate <= 1_000_000) { throw ValidationError("--rate: expected 0 < R <= 1000000, got \(rate)") }
            if let rampTo, !(rampTo > 0 && rampTo <= 1_000_000) { throw ValidationError("--ramp-to: expected 0 < R <= 1000000, got \(rampTo)") }
            if rampTo != nil, rate == nil { throw ValidationError("--ramp-to needs --rate") }
            guard parsedArrival != nil else {
                throw ValidationError("--arrival: expected constant, poisson or gamma:B with 0.01 <= B <= 100, got '\(arrival)'")
            }
            if arrival != "constant", rate == nil { throw ValidationError("--arrival needs --rate (the open model)") }
            if let thinkTime {
                guard connections != nil else { throw ValidationError("--think-time needs --connections (the closed model)") }
                guard let value = DurationText.parse(thinkTime), value >= .zero, value <= .seconds(3_600) else {
                    throw ValidationError("--think-time: expected a duration such as 2s, got '\(thinkTime)'")
                }
            }
            if !(1...1_000).contains(turns) { throw ValidationError("--turns: expected 1...1000, got \(turns)") }
            if let cancelShare, !(0...1).contains(cancelShare) { throw ValidationError("--cancel-share: expected 0...1, got \(cancelShare)") }
            guard DurationText.parse(cancelAfter).map({ $0 >= .zero }) == true else {
                throw ValidationError("--cancel-after: expected a duration such as 2s, got '\(cancelAfter)'")
            }
            if let connections, !(1...100_000).contains(connections) { throw ValidationError("--connections: expected 1...100000, got \(connections)") }
            guard let d = DurationText.parse(duration), d > .zero, d <= .seconds(3_600) else {
                throw ValidationError("--duration: expected a duration such as 10s (at most 1h), got '\(duration)'")
            }
            guard DurationText.parse(timeout).map({ $0 > .zero }) == true else {
                throw ValidationError("--timeout: expected a duration such as 30s, got '\(timeout)'")
            }
            guard DurationText.parse(connectTimeout).map({ $0 > .zero }) == true else {
                throw ValidationError("--connect-timeout: expected a duration such as 5s, got '\(connectTimeout)'")
            }
            if !(1...10_000_000).contains(sessions) { throw ValidationError("--sessions: expected 1...10000000, got \(sessions)") }
            if !(1...100_000).contains(maxTokens) { throw ValidationError("--max-tokens: expected 1...100000, got \(maxTokens)") }
            if !(1...64).contains(threads) { throw ValidationError("--threads: expected 1...64, got \(threads)") }
            if !(1...1_000_000).contains(maxInFlight) { throw ValidationError("--max-in-flight: expected 1...1000000, got \(maxInFlight)") }
            _ = try parsedMix()
            if let shard {
                let parsed = try Shard.option(shard)
                if parsed.count > 1, part == nil { throw ValidationError("--shard: needs --part FILE, where this shard's ledger goes for `cutover merge`") }
            }
            if let startAt, StartTime.parse(startAt) == nil {
                throw ValidationError("--start-at: expected Unix seconds (1796421600.5) or ISO 8601 (2026-12-04T21:50:00Z), got '\(startAt)'")
            }
            if let runID, runID.isEmpty || !runID.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
                throw ValidationError("--run-id: expected letters, digits, '-' or '_', got '\(runID)'")
            }
        }

        func parsedMix() throws -> [LoadPlan.MixEntry] {
            guard let mix else { return [LoadPlan.MixEntry(endpoint: stream ? .chatStream : .chat, weight: 1, maxTokens: maxTokens)] }
            var entries: [LoadPlan.MixEntry] = []
            for item in mix.split(separator: ",") {
                let parts = item.split(separator: ":")
                guard parts.count == 2, let endpoint = Endpoint(name: String(parts[0])), let weight = Double(parts[1]), weight > 0 else {
                    throw ValidationError("--mix: expected endpoint:weight pairs (models|chat|chat-stream), got '\(item)'")
                }
                entries.append(LoadPlan.MixEntry(endpoint: endpoint, weight: weight, maxTokens: maxTokens))
            }
            guard !entries.isEmpty else { throw ValidationError("--mix: expected at least one endpoint:weight pair") }
            return entries
        }

        func run() async throws {
            var plan = LoadPlan(
                url: url, model: rate.map { .open(rate: $0, rampTo: rampTo) } ?? .closed(connections: connections!),
                duration: DurationText.parse(duration)!)
            plan.sessions = sessions
            plan.mix = try parsedMix()
            plan.models = [(model, 1)]
            plan.threads = threads
            plan.maxInFlight = maxInFlight
            plan.seed = seed
            plan.requestTimeout = DurationText.parse(timeout)!
            plan.connectTimeout = DurationText.parse(connectTimeout)!
            plan.arrival = parsedArrival!
            plan.thinkTimeMs = thinkTime.flatMap { DurationText.parse($0) }.map { .fixed(Int($0.microseconds / 1_000)) }
            plan.turns = turns
            plan.cancellation = cancelShare.map {
                LoadPlan.Cancellation(share: $0, afterMs: .fixed(Int(DurationText.parse(cancelAfter)!.microseconds / 1_000)))
            }
            plan.shard = shard.flatMap(Shard.init) ?? .whole
            plan.runID = runID ?? (shard != nil ? "load-\(seed)" : "load-" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
            // Sharded generators wait for one absolute start, and their clocks read zero then.
            let startAtMs = startAt.flatMap(StartTime.parse)
            if let startAtMs { try await StartTime.wait(untilMs: startAtMs) }
            let wokeAtMs = Date().timeIntervalSince1970 * 1_000
            let wallStartMs = startAtMs ?? wokeAtMs
            let clock = RunClock(wallStartMs: wallStartMs)

            let progress = LoadProgress()
            let live = !json && isatty(STDERR_FILENO) == 1
            let ticker =
                live
                ? Task {
                    let started = ContinuousClock.now
                    var last = 0
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        let sent = progress.sent
                        let elapsed = ContinuousClock.now - started
                        FileHandle.standardError.write(
                            Data(
                                "\r  \(elapsed.components.seconds)s  \(sent - last) req/s  ok \(progress.ok)  dropped \(progress.dropped)  green \(progress.green)   "
                                    .utf8))
                        last = sent
                    }
                } : nil
            let result = await LoadGenerator.run(plan, clock: clock, progress: progress)
            ticker?.cancel()
            if live { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }

            if let part {
                do {
                    try LedgerPart(result: result, source: "load", startAtMs: startAtMs, wallStartMs: wallStartMs, wokeAtMs: wokeAtMs, clockOffsetMs: nil)
                        .write(to: URL(fileURLWithPath: part))
                } catch {
                    throw ValidationError("--part: cannot write '\(part)': \(error.localizedDescription)")
                }
            }
            if let ledger {
                do {
                    try result.ledger.writeJSONLines(to: URL(fileURLWithPath: ledger))
                } catch {
                    throw ValidationError("--ledger: cannot write '\(ledger)': \(error.localizedDescription)")
                }
            }
            if json {
                print(result.summary.json(valid: result.valid).text)
            } else {
                print(result.summary.text(valid: result.valid))
                if let note = result.http2Note { print(note) }
            }
            if !result.valid { throw ExitCode(3) }
        }
    }
}
