import ConfigInput
import CurlHTTP
import Cutover
import CutoverTestSupport
import Foundation
import HTTPServerCore
import Testing

@testable import MockUpstream

/// Each check as a pure function of a synthetic history: it passes on a correct router's
/// history and fails on the known-bad one that its name is about.
/// Pure, so they run whenever they like; the two statistical tests, which evaluate hundreds
/// of ledgers, take a lane of the machine so as not to crowd the live tests.
@Suite("Checks")
struct ChecksTests {
    static func record(_ seq: UInt32, session: UInt32, _ env: ServedBy, _ outcome: Outcome = .ok, atMs: UInt32, lagUs: UInt32 = 100) -> LedgerRecord {
        var r = LedgerRecord.notSent(seq: seq, session: session, intendedUs: atMs * 1_000, endpoint: .chat)
        guard outcome != .notSent else { return r }
        r.sentUs = r.intendedUs + lagUs
        r.doneUs = r.sentUs + 2_000
        r.status = outcome == .ok ? 200 : outcome == .transport ? 0 : 502
        if outcome == .transport { r.curlCode = 7 }
        r.servedBy = env
        r.outcome = outcome
        if r.status != 0 { r.answerDigest = answer(seq) }
        return r
    }

    /// The digest of the upstream's answer to request `seq` in these histories.
    static func answer(_ seq: UInt32) -> UInt64 { 0xA5A5_0000_0000 &+ UInt64(seq) }

    /// A run's history; by default each upstream executed exactly the answered requests its records say it served.
    static func history(_ records: [LedgerRecord], phases: [PhaseWindow], upstream: [ServedBy: [LedgerEntry]]? = nil) -> RunHistory {
        let ledger = ClientLedger(runID: "t", records: records, faultStamps: ["none", "storm"])
        let executed =
            upstream
            ?? Dictionary(grouping: records.filter { $0.servedBy != .unknown && ($0.outcome == .ok || $0.outcome == .upstreamFault) }, by: \.servedBy)
            .mapValues { records in records.map { entry(for: $0) } }
        let until = (records.map(\.intendedUs).max() ?? 0) + 1_000_000
        return RunHistory(client: ledger, upstream: executed, phases: phases, control: control(untilUs: until))
    }

    /// A quiet control path: a probe every 20 ms, first byte after `waitedUs`
    /// (`slow` says how much later in some spans).
    static func control(untilUs: UInt32, waitedUs: UInt32 = 1_000, slow: [(from: UInt32, to: UInt32, extraUs: UInt32)] = []) -> ClientLedger {
        let records = stride(from: UInt32(0), to: untilUs, by: 20_000).enumerated().map { index, at -> LedgerRecord in
            var r = LedgerRecord.notSent(seq: UInt32(index), session: 0, intendedUs: at, endpoint: .models)
            let extra = slow.first { at >= $0.from && at < $0.to }?.extraUs ?? 0
            r.sentUs = at + 50
            r.firstByteUs = at + waitedUs + extra
            r.doneUs = r.firstByteUs + 100
            r.status = 200
            r.outcome = .ok
            return r
        }
        return ClientLedger(runID: "control", records: records, faultStamps: ["none"])
    }

    /// The upstream's record of answering `record` as the client saw it.
    static func entry(for record: LedgerRecord) -> LedgerEntry {
        var entry = entry("t-\(record.seq)")
        entry.status = Int(record.status)
        entry.bytes = Int(record.bytes)
        entry.arrivalMs = Double(record.sentUs) / 1_000
        entry.finishMs = Double(record.doneUs) / 1_000
        if record.endpoint == .chatStream {
            // The upstream wrote the events the client counted, and [DONE] when it saw one.
            entry.stream = true
            entry.chunks = Int(record.chunks) + (record.sawDone ? 1 : 0)
        }
        return entry
    }

    /// An execution of request `id` (`t-<seq>`), whose answer is `answer(seq)`.
    static func entry(_ id: String) -> LedgerEntry {
        var entry = LedgerEntry(
            seq: 1, requestID: id, sessionID: nil, method: "POST", path: "/v1/chat/completions", model: "gpt-4.1", stream: false,
            arrivalMs: 0, finishMs: 1, faults: [], status: 200, outcome: .completed, bytes: 0, chunks: 0)
        if id.hasPrefix("t-"), let seq = UInt32(id.dropFirst(2)) {
            entry.bodyDigest = answer(seq)
            entry.contentDigest = answer(seq)
        }
        return entry
    }

    static let whole = PhaseWindow(name: "all", startUs: 0, endUs: 100_000_000, greenWeight: 0)

    /// Sessions 0..<n at `weight`, placed by the reference router's own hash.
    static func sticky(_ n: Int, weight: Int, phase: PhaseWindow, firstSeq: UInt32 = 0, requestsPerSession: Int = 2) -> [LedgerRecord] {
        var records: [LedgerRecord] = []
        var seq = firstSeq
        for repeatIndex in 0..<requestsPerSession {
            for s in 0..<n {
                let env: ServedBy = TrafficSplitForTests.isGreen(session: s, weight: weight) ? .green : .blue
                records.append(record(seq, session: UInt32(s), env, atMs: phase.startUs / 1_000 + UInt32(repeatIndex * 10 + 1)))
                seq += 1
            }
        }
        return records
    }

    @Test func zeroDroppedFailsOnDropsInTheCheckedPhases() throws {
        let canary = PhaseWindow(name: "canary", startUs: 1_000_000, endUs: 2_000_000, greenWeight: 10)
        let base = PhaseWindow(name: "baseline", startUs: 0, endUs: 1_000_000, greenWeight: 0)
        let good = [Self.record(0, session: 1, .blue, atMs: 10), Self.record(1, session: 2, .green, atMs: 1_500)]
        #expect(ZeroDropped().evaluate(Self.history(good, phases: [base, canary]), CheckSpec(name: "ZeroDropped")).status == .pass)

        let bad = good + [Self.record(2, session: 3, .unknown, .transport, atMs: 1_600), Self.record(3, session: 4, .unknown, .routerError, atMs: 1_700)]
        let result = ZeroDropped().evaluate(Self.history(bad, phases: [base, canary]), CheckSpec(name: "ZeroDropped"))
        #expect(result.status == .fail)
        let evidence = try #require(result.evidence as? ZeroDropped.Evidence)
        #expect(evidence.dropped == 2 && evidence.routerError == 1 && evidence.transport == 1 && evidence.requestIDs == ["t-2", "t-3"])
        // A drop outside the checked phases does not count.
        let outside = good + [Self.record(2, session: 3, .unknown, .transport, atMs: 500)]
        #expect(ZeroDropped().evaluate(Self.history(outside, phases: [base, canary]), CheckSpec(name: "ZeroDropped", phases: ["canary"])).status == .pass)
    }

    @Test func noDuplicateExecutionCatchesARouterThatRetriesAfterSend() throws {
        let records = (0..<10).map { Self.record(UInt32($0), session: UInt32($0), .blue, atMs: UInt32($0)) }
        #expect(NoDuplicateExecution().evaluate(Self.history(records, phases: [Self.whole]), CheckSpec(name: "NoDuplicateExecution")).status == .pass)

        // The retrying router sent t-3 to blue, then again to green.
        var upstream: [ServedBy: [LedgerEntry]] = [.blue: records.map { Self.entry("t-\($0.seq)") }, .green: [Self.entry("t-3")]]
        let retried = NoDuplicateExecution().evaluate(Self.history(records, phases: [Self.whole], upstream: upstream), CheckSpec(name: "NoDuplicateExecution"))
        #expect(retried.status == .fail)
        #expect(try #require(retried.evidence as? NoDuplicateExecution.Evidence).duplicatedIDs.first?.hasPrefix("t-3 ") == true)

        // A chat answer the upstreams never saw (answered from nowhere) is no ok: it is dropped;
        // health checks are the router's own and count for nothing.
        var probe = Self.entry("health-blue-1")
        probe.messagesDigest = 1
        probe.maxTokens = 5
        upstream = [.blue: records.dropLast().map { Self.entry("t-\($0.seq)") } + [probe]]
        let nowhere = Self.history(records, phases: [Self.whole], upstream: upstream)
        #expect(NoDuplicateExecution().evaluate(nowhere, CheckSpec(name: "NoDuplicateExecution")).status == .pass)
        let dropped = ZeroDropped().evaluate(nowhere, CheckSpec(name: "ZeroDropped"))
        #expect(dropped.status == .fail && (dropped.evidence as? ZeroDropped.Evidence)?.noUpstreamExecution == 1, "\(dropped.summary)")
    }

    @Test func stickinessCatchesARouterThatSplitsEveryRequestAtRandom() {
        let phase = PhaseWindow(name: "canary", startUs: 0, endUs: 10_000_000, greenWeight: 50)
        #expect(Stickiness().evaluate(Self.history(Self.sticky(500, weight: 50, phase: phase), phases: [phase]), CheckSpec(name: "Stickiness")).status == .pass)

        var generator = SplitMix64(seed: 1)
        let random = Self.sticky(500, weight: 50, phase: phase).map { record -> LedgerRecord in
            var r = record
            r.servedBy = generator.next() % 2 == 0 ? .blue : .green
            return r
        }
        let result = Stickiness().evaluate(Self.history(random, phases: [phase]), CheckSpec(name: "Stickiness"))
        #expect(result.status == .fail)
        #expect(result.summary.hasPrefix("2") || result.summary.hasPrefix("1"))
    }

    @Test func monotoneMovementCatchesSessionsMovingAgainstTheWeight() {
        let at10 = PhaseWindow(name: "canary-10", startUs: 0, endUs: 1_000_000, greenWeight: 10)
        let at50 = PhaseWindow(name: "canary-50", startUs: 1_000_000, endUs: 2_000_000, greenWeight: 50)
        let good = Self.sticky(400, weight: 10, phase: at10) + Self.sticky(400, weight: 50, phase: at50, firstSeq: 10_000)
        let pass = MonotoneMovement().evaluate(Self.history(good, phases: [at10, at50]), CheckSpec(name: "MonotoneMovement"))
        #expect(pass.status == .pass, "\(pass.summary)")

        // A router that re-hashes on every weight change: some green sessions go back to blue.
        let rehashed =
            Self.sticky(400, weight: 10, phase: at10)
            + Self.sticky(400, weight: 50, phase: at50, firstSeq: 10_000).map { record -> LedgerRecord in
                var r = record
                r.servedBy = (record.session * 7919 % 100) < 50 ? .green : .blue
                return r
            }
        #expect(MonotoneMovement().evaluate(Self.history(rehashed, phases: [at10, at50]), CheckSpec(name: "MonotoneMovement")).status == .fail)
        // No weight change to judge: inconclusive, never a pass.
        #expect(MonotoneMovement().evaluate(Self.history(good, phases: [at10]), CheckSpec(name: "MonotoneMovement")).status == .inconclusive)
    }

    @Test func binomialTestMatchesKnownValues() {
        #expect(BinomialTest.pValue(successes: 5, trials: 10, probability: 0.5) == 1)
        #expect(abs(BinomialTest.pValue(successes: 0, trials: 10, probability: 0.5) - 2 * pow(0.5, 10)) < 1e-12)
        // Reference values from scipy.stats.binomtest (same two-sided method as R's binom.test).
        #expect(abs(BinomialTest.pValue(successes: 30, trials: 200, probability: 0.1) - 0.024_397_815_886_869_23) < 1e-9)
        let tail = BinomialTest.pValue(successes: 220, trials: 1_500, probability: 0.1)
        #expect(abs(tail - 1.193_206_634_224_637_7e-08) / 1.193_206_634_224_637_7e-08 < 1e-6)
        #expect(BinomialTest.pValue(successes: 0, trials: 100, probability: 0) == 1)
        #expect(BinomialTest.pValue(successes: 1, trials: 100, probability: 0) == 0)
    }

    /// Draws `n` sessions, each green with probability `share`, and runs SplitAccuracy against `weight`.
    static func splitResult(sessions n: Int, share: Double, weight: Int, alpha: Double, seed: UInt64) -> CheckResult.Status {
        let phase = PhaseWindow(name: "canary", startUs: 0, endUs: 10_000_000, greenWeight: weight)
        var generator = SplitMix64(seed: seed)
        let records = (0..<n).map { s in
            Self.record(UInt32(s), session: UInt32(s), Double(generator.next() >> 11) * 0x1.0p-53 < share ? .green : .blue, atMs: 1)
        }
        return SplitAccuracy().evaluate(Self.history(records, phases: [phase]), CheckSpec(name: "SplitAccuracy", alpha: alpha)).status
    }

    @Test(.sharesTheMachine) func splitAccuracyFalseAlarmsStayNearAlphaOnACorrectRouter() {
        let trials = 1_000
        let alarms = (0..<trials).filter { Self.splitResult(sessions: 1_000, share: 0.1, weight: 10, alpha: 0.01, seed: UInt64($0)) == .fail }.count
        // The exact test is conservative: at most alpha, and not far below it.
        #expect(alarms >= 2 && alarms <= 20, "\(alarms) false alarms in \(trials) runs at alpha 0.01")
    }

    @Test(.sharesTheMachine) func splitAccuracyCatchesFifteenPercentAgainstTenAtTheSuitesSampleSize() {
        // canary-promote: 10 s at 300 req/s over a pool of 2,000 sessions, so ~1,500 sessions per phase.
        let caught = (0..<200).filter { Self.splitResult(sessions: 1_500, share: 0.15, weight: 10, alpha: 0.001, seed: 10_000 + UInt64($0)) == .fail }.count
        #expect(caught >= 198, "caught \(caught) of 200")
    }

    /// Requests every 10 ms for 2 s, served by green until `switchAtMs` (+ `lagMs` for a slow router), then blue.
    static func rollbackRun(switchAtMs: UInt32, greenUntilMs: UInt32) -> RunHistory {
        let records = (0..<200).map { i -> LedgerRecord in
            let at = UInt32(i * 10)
            return Self.record(UInt32(i), session: UInt32(i), at < greenUntilMs ? .green : .blue, atMs: at, lagUs: 0)
        }
        let actions = [
            ActionRecord(action: .promote, calledUs: 0, returnedUs: 0, accepted: true, reportedWeightAfter: 100),
            ActionRecord(action: .rollback, calledUs: switchAtMs * 1_000 - 2_000, returnedUs: switchAtMs * 1_000, accepted: true, reportedWeightAfter: 0),
        ]
        return Self.history(records, phases: [Self.whole]).withActions(actions)
    }

    @Test func zeroWeightIsolationCatchesARouterStillSendingToTheOldEnvironment() {
        let good = Self.rollbackRun(switchAtMs: 1_000, greenUntilMs: 1_000)
        #expect(ZeroWeightIsolation().evaluate(good, CheckSpec(name: "ZeroWeightIsolation")).status == .pass)
        // A router that keeps a stale weight for a while after rollback returned.
        let stale = Self.rollbackRun(switchAtMs: 1_000, greenUntilMs: 1_300)
        let result = ZeroWeightIsolation().evaluate(stale, CheckSpec(name: "ZeroWeightIsolation"))
        #expect(result.status == .fail && result.summary.hasPrefix("29 executions"), "\(result.summary)")
    }

    /// Timed from the call (2 ms before it returned), not from its return.
    @Test func rollbackTimeMeasuresTheLastGreenRequestAfterTheCall() {
        #expect(RollbackTime().evaluate(Self.rollbackRun(switchAtMs: 1_000, greenUntilMs: 1_000), CheckSpec(name: "RollbackTime")).status == .pass)
        let slow = RollbackTime().evaluate(Self.rollbackRun(switchAtMs: 1_000, greenUntilMs: 1_300), CheckSpec(name: "RollbackTime", max: .milliseconds(100)))
        #expect(slow.status == .fail && slow.summary.contains("292.0 ms"), "\(slow.summary)")
        let lenient = RollbackTime().evaluate(Self.rollbackRun(switchAtMs: 1_000, greenUntilMs: 1_300), CheckSpec(name: "RollbackTime", max: .seconds(1)))
        #expect(lenient.status == .pass)
        #expect(RollbackTime().evaluate(Self.history([], phases: [Self.whole]), CheckSpec(name: "RollbackTime")).status == .inconclusive)
    }

    @Test func generatorValidFailsOnNotSentSlotsOrLateSending() {
        let good = (0..<100).map { Self.record(UInt32($0), session: 1, .blue, atMs: UInt32($0)) }
        #expect(GeneratorValid().evaluate(Self.history(good, phases: [Self.whole]), CheckSpec(name: "GeneratorValid")).status == .pass)
        let starved = good + [Self.record(100, session: 1, .unknown, .notSent, atMs: 200)]
        #expect(GeneratorValid().evaluate(Self.history(starved, phases: [Self.whole]), CheckSpec(name: "GeneratorValid")).status == .fail)
        let late = (0..<100).map { Self.record(UInt32($0), session: 1, .blue, atMs: UInt32($0), lagUs: 200_000) }
        #expect(GeneratorValid().evaluate(Self.history(late, phases: [Self.whole]), CheckSpec(name: "GeneratorValid")).status == .fail)
    }
}

extension RunHistory {
    func withActions(_ actions: [ActionRecord]) -> RunHistory {
        var copy = self
        copy.actions = actions
        return copy
    }
}

/// The reference router's placement, for building a correct router's history.
enum TrafficSplitForTests {
    static func isGreen(session: Int, weight: Int) -> Bool {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in "s\(session)".utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash % 10_000 < UInt64(weight * 100)
    }
}
