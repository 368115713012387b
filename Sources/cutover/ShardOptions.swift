import ArgumentParser
import Cutover
import Foundation

/// `cutover run SUITE --shard K/N …`: one stripe of a suite's load, for a coordinator that
/// runs the timeline and merges the parts (`--shards N` here, or one on another machine).
struct ShardOptions: ParsableArguments {
    @Option(help: "Be shard K of N: carry only that stripe of the suite's load against --target, from --start-at, and write the ledger part to --part.")
    var shard: String?

    @Option(help: "The router's URL, for a shard.")
    var target: String?

    @Option(name: .customLong("start-at"), help: "For a shard: the absolute start, Unix seconds or ISO 8601.")
    var startAt: String?

    @Option(help: "For a shard: where its ledger part goes.")
    var part: String?

    @Option(help: "For a shard: how the router relays answers (verbatim | semantic), as its profile says.")
    var relay: String?

    @Option(
        name: .customLong("load-header"), help: "For a shard: a header its load sends the router ('Name: value'), as the router profile's load_headers say.")
    var loadHeaders: [String] = []

    @Flag(name: .customLong("no-http2"), help: "For a shard: the router takes no HTTP/2, so the suite's h2 clients go as HTTP/1.1, as its profile says.")
    var noHTTP2 = false

    @Option(
        name: .customLong("coordinator-url"),
        help: "For a shard: the coordinator (cutover run --coordinator) to take the router's URL and the start from, and to measure the clock against.")
    var coordinatorURL: String?

    func validate() throws {
        guard let shard else {
            if target != nil || startAt != nil || part != nil || coordinatorURL != nil || relay != nil || !loadHeaders.isEmpty || noHTTP2 {
                throw ValidationError("--target, --start-at, --coordinator-url, --relay, --load-header, --no-http2 and --part belong to --shard K/N")
            }
            return
        }
        if let bad = loadHeaders.first(where: { LoadPlan.header(parsing: $0) == nil }) {
            throw ValidationError("--load-header: expected 'Name: value', got '\(bad)'")
        }
        if let relay, RelayKind(rawValue: relay) == nil {
            throw ValidationError("--relay: expected verbatim or semantic, got '\(relay)'")
        }
        _ = try Shard.option(shard)
        guard part != nil else { throw ValidationError("--shard: needs --part FILE, where the ledger part goes") }
        if let coordinatorURL {
            guard coordinatorURL.hasPrefix("http://") else { throw ValidationError("--coordinator-url: expected http://HOST:PORT, got '\(coordinatorURL)'") }
            if target != nil || startAt != nil {
                throw ValidationError("--coordinator-url: the coordinator gives the target and the start; drop --target and --start-at")
            }
            return
        }
        guard let target, target.hasPrefix("http://") else {
            throw ValidationError("--shard: needs --coordinator-url, or --target http://HOST:PORT (the router's URL)")
        }
        guard let startAt, StartTime.parse(startAt) != nil else { throw ValidationError("--shard: needs --start-at, Unix seconds or ISO 8601") }
    }

    /// Carries this shard's stripe and writes its part.
    func carry(_ suite: Suite, seed: UInt64) async throws {
        var startAtMs: Double
        var localStartMs: Double
        var offsetMs: Double?
        var plan: LoadPlan
        if let coordinatorURL {
            // The coordinator's start, moved onto this machine's clock by the measured offset.
            let shiftMs = Double(ProcessInfo.processInfo.environment["CUTOVER_TEST_CLOCK_SHIFT_MS"] ?? "") ?? 0
            let clock: CoordinatorClock
            do {
                clock = try await CoordinatorClock.measure(coordinatorURL, shiftMs: shiftMs)
            } catch {
                throw ValidationError(error.description)
            }
            let run = clock.announcement
            plan = SuiteRunner.plan(suite, seed: run.seed, url: run.target)
            plan.relay = run.relay ?? .verbatim
            plan.headers = SuiteRunner.merge(plan.headers, (run.loadHeaders ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            plan.offerHTTP2(run.http2 ?? true)
            guard run.suite == suite.name, plan.scheduleDigest == run.schedule, run.shards == Shard(shard!)!.count else {
                throw ValidationError(
                    "--coordinator-url: the coordinator runs \(run.suite) (seed \(run.seed), \(run.shards) shards, schedule \(run.schedule)); this shard has \(suite.name) with schedule \(plan.scheduleDigest) as \(shard!)"
                )
            }
            startAtMs = run.startAtMs
            offsetMs = clock.offsetMs
            localStartMs = run.startAtMs + clock.offsetMs - shiftMs
        } else {
            plan = SuiteRunner.plan(suite, seed: seed, url: target!)
            plan.relay = relay.flatMap(RelayKind.init(rawValue:)) ?? .verbatim
            plan.headers = SuiteRunner.merge(plan.headers, loadHeaders.compactMap(LoadPlan.header(parsing:)))
            plan.offerHTTP2(!noHTTP2)
            startAtMs = StartTime.parse(startAt!)!
            localStartMs = startAtMs
        }
        plan.shard = Shard(shard!)!
        try await StartTime.wait(untilMs: localStartMs)
        let wokeAtMs = Date().timeIntervalSince1970 * 1_000
        let result = await LoadGenerator.run(plan, clock: RunClock(wallStartMs: localStartMs))
        do {
            try LedgerPart(result: result, source: suite.name, startAtMs: startAtMs, wallStartMs: localStartMs, wokeAtMs: wokeAtMs, clockOffsetMs: offsetMs)
                .write(to: URL(fileURLWithPath: part!))
        } catch {
            throw ValidationError("--part: cannot write '\(part!)': \(error.localizedDescription)")
        }
        print(
            "shard \(plan.shard) of \(suite.name) (seed \(plan.seed)): \(result.ledger.records.count) records, woke \(String(format: "%.1f", wokeAtMs - localStartMs)) ms after the start"
                + (offsetMs.map { ", clock \(String(format: "%.1f", $0)) ms off the coordinator's" } ?? ""))
    }
}

extension Shard {
    /// `--shard K/N`, as `cutover load` and `cutover run` both read it.
    static func option(_ text: String) throws -> Shard {
        guard let shard = Shard(text) else { throw ValidationError("--shard: expected K/N with 0 <= K < N <= \(Shard.maximumCount), got '\(text)'") }
        return shard
    }
}
