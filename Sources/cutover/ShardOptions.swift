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

    func validate() throws {
        guard let shard else {
            if target != nil || startAt != nil || part != nil { throw ValidationError("--target, --start-at and --part belong to --shard K/N") }
            return
        }
        guard Shard(shard) != nil else { throw ValidationError("--shard: expected K/N with 0 <= K < N <= \(Shard.maximumCount), got '\(shard)'") }
        guard let target, target.hasPrefix("http://") else { throw ValidationError("--shard: needs --target http://HOST:PORT, the router's URL") }
        guard let startAt, StartTime.parse(startAt) != nil else { throw ValidationError("--shard: needs --start-at, Unix seconds or ISO 8601") }
        guard part != nil else { throw ValidationError("--shard: needs --part FILE, where the ledger part goes") }
    }

    /// Carries this shard's stripe and writes its part.
    func carry(_ suite: Suite, seed: UInt64) async throws {
        var plan = SuiteRunner.plan(suite, seed: seed, url: target!)
        plan.shard = Shard(shard!)!
        let startAtMs = StartTime.parse(startAt!)!
        try await StartTime.wait(untilMs: startAtMs)
        let wokeAtMs = Date().timeIntervalSince1970 * 1_000
        let result = await LoadGenerator.run(plan, clock: RunClock(wallStartMs: startAtMs))
        do {
            try LedgerPart(result: result, source: suite.name, startAtMs: startAtMs, wallStartMs: startAtMs, wokeAtMs: wokeAtMs, clockOffsetMs: nil)
                .write(to: URL(fileURLWithPath: part!))
        } catch {
            throw ValidationError("--part: cannot write '\(part!)': \(error.localizedDescription)")
        }
        print("shard \(plan.shard) of \(suite.name) (seed \(seed)): \(result.ledger.records.count) records, woke \(String(format: "%.1f", wokeAtMs - startAtMs)) ms after the start")
    }
}
