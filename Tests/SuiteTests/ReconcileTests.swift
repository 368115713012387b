import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore
import Testing

@testable import MockUpstream

/// The reconcile stage settles who served each request and how it ended from the
/// upstreams' evidence, and the window and guard fixes of issue 12 each hold.
@Suite("Reconcile")
struct ReconcileTests {
    static let pace = FaultWindow(target: .green, fault: Fault(id: "pace", kind: .streamPace(ttftMs: 50, tokensPerSecond: 40, jitterMs: 0)), startUs: 0)
    static let storm = FaultWindow(
        target: .green, fault: Fault(id: "storm", kind: .status(code: 500, retryAfter: nil, headers: [], message: nil), probability: 0.5), startUs: 0)
    static let cut = FaultWindow(target: .green, fault: Fault(id: "cut", kind: .streamCut(afterChunks: 3)), startUs: 0)

    /// One green request as the client saw it, and (when `executed`) green's record of it.
    static func settled(
        status: UInt16, bytes: UInt32 = 100, upstreamBytes: Int = 100, stamp: String? = nil, stream: Bool = false, done: Bool = true,
        executed: Bool = true, upstreamStatus: Int? = nil, curlCode: UInt8 = 0, clientSays: ServedBy = .green
    ) -> LedgerRecord {
        var record = ChecksTests.record(0, session: 0, clientSays, atMs: 1)
        record.status = status
        record.bytes = bytes
        record.curlCode = curlCode
        record.endpoint = stream ? .chatStream : .chat
        record.fault = stamp == nil ? 0 : 1
        record.flags = LedgerRecord.stampedFlag | (done ? LedgerRecord.doneFlag : 0)
        var entry = ChecksTests.entry("t-0")
        record.answerDigest = ChecksTests.answer(0)
        entry.status = upstreamStatus ?? Int(status)
        entry.bytes = upstreamBytes
        entry.faults = stamp.map { [$0] } ?? []
        let history = RunHistory(
            client: ClientLedger(runID: "t", records: [record], faultStamps: ["none", stamp ?? "unused"]), upstream: executed ? [.green: [entry]] : [:],
            phases: [ChecksTests.whole], faults: [pace, storm, cut])
        return ReconciledRun(history).records[0]
    }

    @Test func outcomesNeedTheUpstreamsEvidence() {
        #expect(Self.settled(status: 200).outcome == .ok)
        // An injected 500 that green's ledger holds was relayed faithfully...
        #expect(Self.settled(status: 500, stamp: "storm").outcome == .upstreamFault)
        // ...but not one the upstream never executed, nor a 404 that a mere delay stamped.
        #expect(Self.settled(status: 500, stamp: "storm", executed: false).outcome == .routerError)
        #expect(Self.settled(status: 404, stamp: "pace").outcome == .routerError)
        // A 401 or 404 the upstream gave, stamped `none`: the router altered the request.
        #expect(Self.settled(status: 401).outcome == .routerError)
        // A 200 with fewer bytes than the upstream sent was truncated on the way.
        #expect(Self.settled(status: 200, bytes: 92).outcome == .transport)
        // A stream without [DONE]: a delay excuses nothing; a stream cut that sent exactly these bytes does.
        #expect(Self.settled(status: 200, stamp: "pace", stream: true, done: false).outcome == .transport)
        #expect(Self.settled(status: 200, stamp: "cut", stream: true, done: false, curlCode: 18).outcome == .upstreamFault)
        #expect(Self.settled(status: 200, bytes: 40, stamp: "cut", stream: true, done: false, curlCode: 18).outcome == .transport)
    }

    @Test func whoServedIsTheUpstreamThatExecuted() {
        // The client's stamp said blue, but green's ledger holds the execution.
        #expect(Self.settled(status: 200, clientSays: .blue).servedBy == .green)
        #expect(Self.settled(status: 200, executed: false).servedBy == .unknown)
    }

    @Test func aDropAtTheSwitchMomentCounts() {
        // The canary phase opened at its call (1.0 s) and is steady from its return (1.2 s).
        let base = PhaseWindow(name: "baseline", startUs: 0, endUs: 1_000_000, greenWeight: 0)
        let canary = PhaseWindow(name: "canary", startUs: 1_200_000, endUs: 3_000_000, greenWeight: 10, openedUs: 1_000_000, closedUs: 3_000_000)
        let records = [ChecksTests.record(0, session: 0, .blue, atMs: 500), ChecksTests.record(1, session: 1, .unknown, .transport, atMs: 1_100)]
        let result = ZeroDropped().evaluate(ChecksTests.history(records, phases: [base, canary]), CheckSpec(name: "ZeroDropped", phases: ["canary"]))
        #expect(result.status == .fail)
    }

    @Test func convergenceJudgesAChangeNoLargerThanItsTolerance() {
        // 0 → 10 % at 2 s, and a router that never moves anyone: within 0.1 of 0.1 all along.
        let stuck = ChecksTests.steady(fromMs: 0, toMs: 6_000, perSecond: 200, weight: 0, firstSeq: 0)
        var history = ChecksTests.history(stuck, phases: [ChecksTests.whole])
        history.actions = [ChecksTests.action(.canary(percent: 10), atMs: 2_000)]
        let result = ConvergenceTime().evaluate(history, CheckSpec(name: "ConvergenceTime"))
        #expect(result.status == .fail, "\(result.summary)")
        let moved =
            ChecksTests.steady(fromMs: 0, toMs: 2_000, perSecond: 200, weight: 0, firstSeq: 0)
            + ChecksTests.steady(fromMs: 2_010, toMs: 6_000, perSecond: 200, weight: 10, firstSeq: 1_000)
        history = ChecksTests.history(moved, phases: [ChecksTests.whole])
        history.actions = [ChecksTests.action(.canary(percent: 10), atMs: 2_000)]
        #expect(ConvergenceTime().evaluate(history, CheckSpec(name: "ConvergenceTime")).status == .pass)
    }

    @Test func latencyBudgetCountsRequestsThatNeverAnswered() {
        var history = TimingAttributionTests.run(routerSlow: [])
        // Around the first switch, a fifth of the requests time out after 30 s with no byte.
        var records = history.client.records
        for index in records.indices where records[index].intendedUs >= 6_000_000 && records[index].intendedUs < 7_000_000 && index % 5 == 0 {
            records[index].firstByteUs = 0
            records[index].doneUs = records[index].sentUs + 30_000_000
            records[index].status = 0
            records[index].curlCode = 28
            records[index].outcome = .transport
        }
        history.client = ClientLedger(runID: "t", records: records, faultStamps: ["none"])
        let result = LatencyBudget().evaluate(history, CheckSpec(name: "LatencyBudget"))
        #expect(result.status == .fail, "\(result.summary)")
    }

    @Test func splitAccuracyNeedsASampleToTest() {
        let phase = PhaseWindow(name: "canary", startUs: 0, endUs: 10_000_000, greenWeight: 50)
        let few = ChecksTests.sticky(12, weight: 50, phase: phase)
        let result = SplitAccuracy().evaluate(ChecksTests.history(few, phases: [phase]), CheckSpec(name: "SplitAccuracy", phases: ["canary"]))
        #expect(result.status == .inconclusive, "\(result.summary)")
    }

    @Test func anIncompleteUpstreamLedgerCannotVouch() {
        let records = (0..<10).map { ChecksTests.record(UInt32($0), session: UInt32($0), .blue, atMs: UInt32($0)) }
        var history = ChecksTests.history(records, phases: [ChecksTests.whole])
        history.upstreamLedgerDropped = [.blue: 4_096]
        let run = ReconciledRun(history)
        #expect(run.evidenceGaps.count == 1 && run.evidenceGaps[0].contains("4096"))
        #expect(NoDuplicateExecution().evaluate(run, CheckSpec(name: "NoDuplicateExecution")).status == .inconclusive)
    }

    @Test func actionsMustDoWhatTheSuiteExpects() throws {
        func judge(_ actions: [ActionRecord]) -> CheckResult {
            var history = ChecksTests.history([], phases: [ChecksTests.whole])
            history.actions = actions
            return ActionsHonoured().evaluate(history, CheckSpec(name: "ActionsHonoured"))
        }
        let refusedRollback = ActionRecord(action: .rollback, calledUs: 0, returnedUs: 1, accepted: false, reportedWeightAfter: 50, detail: "500 oops")
        let result = judge([refusedRollback])
        #expect(result.status == .fail)
        let evidence = try #require(result.evidence as? ActionsHonoured.Evidence)
        #expect(evidence.actions.first?.response == "500 oops" && evidence.problems == 1)
        // A refusal the suite asked for is honoured; so is an accepted action at the weight asked.
        let gated = ActionRecord(action: .canary(percent: 10), expect: .refused, calledUs: 0, returnedUs: 1, accepted: false, reportedWeightAfter: 0)
        let canary = ActionRecord(action: .canary(percent: 10), calledUs: 2, returnedUs: 3, accepted: true, reportedWeightAfter: 10)
        #expect(judge([gated, canary]).status == .pass)
        // A router that reports 20 % when 10 % was asked for.
        #expect(judge([ActionRecord(action: .canary(percent: 10), calledUs: 2, returnedUs: 3, accepted: true, reportedWeightAfter: 20)]).status == .fail)
        // An accepted canary the suite expected to be refused.
        #expect(judge([ActionRecord(action: .canary(percent: 10), expect: .refused, calledUs: 0, returnedUs: 1, accepted: true)]).status == .fail)
        // A router whose call blocks: 6 s to return is past what an operator waits (5 s);
        // a restart, which drains first, has 30 s.
        let slow = judge([ActionRecord(action: .rollback, calledUs: 1_000_000, returnedUs: 7_000_000, accepted: true, reportedWeightAfter: 0)])
        #expect(slow.status == .fail && slow.summary.contains("took 6.0 s to return (bound 5s)"), "\(slow.summary)")
        var history = ChecksTests.history([], phases: [ChecksTests.whole])
        history.actions = [ActionRecord(action: .rollback, calledUs: 1_000_000, returnedUs: 7_000_000, accepted: true, reportedWeightAfter: 0)]
        #expect(ActionsHonoured().evaluate(history, CheckSpec(name: "ActionsHonoured", max: .seconds(10))).status == .pass)
        #expect(judge([ActionRecord(action: .restart, calledUs: 0, returnedUs: 20_000_000, accepted: true, reportedWeightAfter: 0)]).status == .pass)
        #expect(judge([ActionRecord(action: .restart, calledUs: 0, returnedUs: 40_000_000, accepted: true, reportedWeightAfter: 0)]).status == .fail)
    }
}

/// Timing checks tell the router's slowness from the machine's: the control path and the
/// run's own windows without an action (the null distribution), as pure functions over
/// made-up ledgers.
@Suite("Timing attribution")
struct TimingAttributionTests {
    /// 20 s at 200 req/s, first byte after 1.5 ms, canaries at 6 s and 13 s; `slow` adds
    /// latency on the router path, `machine` on the control path, in the spans given.
    static func run(routerSlow: [(from: UInt32, to: UInt32, extraUs: UInt32)], machineSlow: [(from: UInt32, to: UInt32, extraUs: UInt32)] = []) -> RunHistory {
        let baseline = PhaseWindow(name: "baseline", startUs: 0, endUs: 6_000_000, greenWeight: 0)
        let records = ChecksTests.steady(fromMs: 0, toMs: 20_000, perSecond: 200, weight: 0, firstSeq: 0).map { record -> LedgerRecord in
            var r = record
            r.firstByteUs = r.intendedUs + 1_500 + (routerSlow.first { record.intendedUs >= $0.from && record.intendedUs < $0.to }?.extraUs ?? 0)
            r.doneUs = r.firstByteUs + 500
            return r
        }
        var history = ChecksTests.history(records, phases: [baseline])
        history.control = ChecksTests.control(untilUs: 21_000_000, slow: machineSlow)
        history.actions = [ChecksTests.action(.canary(percent: 10), atMs: 6_000), ChecksTests.action(.canary(percent: 20), atMs: 13_000)]
        return history
    }

    static func latency(_ history: RunHistory) -> CheckResult { LatencyBudget().evaluate(history, CheckSpec(name: "LatencyBudget")) }

    /// The 1 s after each action returned.
    static let afterActions: [(from: UInt32, to: UInt32, extraUs: UInt32)] = [(6_000_000, 7_002_000, 30_000), (13_000_000, 14_002_000, 30_000)]

    @Test func aRouterThatHoldsRequests30msAfterASwitchFails() throws {
        #expect(Self.latency(Self.run(routerSlow: [])).status == .pass)
        let result = Self.latency(Self.run(routerSlow: Self.afterActions))
        #expect(result.status == .fail, "\(result.summary)")
        let evidence = try #require(result.evidence as? LatencyBudget.Evidence)
        #expect(evidence.windows.allSatisfy { $0.verdict == "fail" && $0.routerAddedMs >= 25 && !$0.machine.noisy })
        #expect(evidence.quietWindows >= 10 && evidence.budgetMs == 5)
    }

    @Test func slownessTheControlPathSharesIsTheMachines() {
        // The machine stalls in the action windows: both paths slow.
        let both = Self.latency(Self.run(routerSlow: Self.afterActions, machineSlow: Self.afterActions))
        #expect(both.status == .pass || both.status == .inconclusive, "\(both.summary)")
        // A stall of the generator's own machine only on the router path, but the control
        // probes slowed by half as much: still not the router's to answer for.
        let partly = Self.latency(Self.run(routerSlow: Self.afterActions, machineSlow: Self.afterActions.map { ($0.from, $0.to, 15_000) }))
        #expect(partly.status != .fail, "\(partly.summary)")
    }

    @Test func noiseInEveryWindowIsNeverAFail() {
        // Every other second is slow on the router path, action or not: the quiet windows look as bad.
        let everywhere = (0..<10).map { (from: UInt32($0) * 2_000_000, to: UInt32($0) * 2_000_000 + 1_200_000, extraUs: UInt32(30_000)) }
        let result = Self.latency(Self.run(routerSlow: everywhere))
        #expect(result.status == .pass || result.status == .inconclusive, "\(result.summary)")
        // And noise everywhere on both paths.
        let result2 = Self.latency(Self.run(routerSlow: everywhere, machineSlow: everywhere))
        #expect(result2.status != .fail, "\(result2.summary)")
    }

    @Test func aRunWithoutAControlPathCannotBlame() {
        var history = Self.run(routerSlow: Self.afterActions)
        history.control = nil
        #expect(Self.latency(history).status == .inconclusive)
    }

    @Test func theReportsShowTheControlPathBesideTheRouterPath() throws {
        // The router path alone slow in second 6: a rise only on the router's line.
        let routerOnly = PathComparison(ReconciledRun(Self.run(routerSlow: [(6_000_000, 7_000_000, 30_000)])))
        #expect(routerOnly.seconds[6].routerExcessP90Ms >= 25 && routerOnly.seconds[6].controlExcessP90Ms < 1 && !routerOnly.seconds[6].noisy)
        #expect(routerOnly.noisySeconds == 0 && routerOnly.control?.requests ?? 0 > 900)
        // Both paths slow in second 9: the control line rises too, and the second is marked noisy.
        let both = PathComparison(ReconciledRun(Self.run(routerSlow: [(9_000_000, 10_000_000, 30_000)], machineSlow: [(9_000_000, 10_000_000, 30_000)])))
        #expect(both.seconds[9].controlExcessP90Ms >= 25 && both.seconds[9].noisy && both.noisySeconds == 1)
        #expect(both.text.contains("control path (no router)") && both.text.contains("1 of 20 s noisy"), "\(both.text)")
        // Without a control path no second can vouch for the machine.
        var bare = Self.run(routerSlow: [])
        bare.control = nil
        let none = PathComparison(ReconciledRun(bare))
        #expect(none.control == nil && none.text.contains("no control path"))
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let json = String(decoding: try encoder.encode(both), as: UTF8.self)
        #expect(json.contains("\"noisy_seconds\":1") && json.contains("\"control_excess_p90_ms\""))
    }

    @Test func aLateRollbackWhileTheMachineStalledIsInconclusive() {
        let late = ChecksTests.rollbackRun(switchAtMs: 1_000, greenUntilMs: 1_900)
        #expect(RollbackTime().evaluate(late, CheckSpec(name: "RollbackTime", max: .milliseconds(500))).status == .fail)
        var stalled = late
        stalled.control = ChecksTests.control(untilUs: 3_000_000, slow: [(1_000_000, 1_900_000, 400_000)])
        let result = RollbackTime().evaluate(stalled, CheckSpec(name: "RollbackTime", max: .milliseconds(500)))
        #expect(result.status == .inconclusive, "\(result.summary)")
    }
}
