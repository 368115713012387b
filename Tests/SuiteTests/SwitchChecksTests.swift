import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore
import Testing

@testable import MockUpstream

/// The checks that judge switches, errors, health gating and restarts, each on a correct
/// history and on the known-bad router's history it is named after.
extension ChecksTests {
    static func action(_ action: RouterAction, atMs: UInt32, ok: Bool = true, before: Int? = nil, after: Int? = nil) -> ActionRecord {
        ActionRecord(
            action: action, calledUs: atMs * 1_000, returnedUs: atMs * 1_000 + 2_000, accepted: ok, reportedWeightBefore: before,
            reportedWeightAfter: after ?? action.intendedGreenWeight)
    }

    /// `perSecond` requests a second from `fromMs` to `toMs`, green for sessions below `weight` % (by session number).
    static func steady(fromMs: UInt32, toMs: UInt32, perSecond: UInt32, weight: Int, firstSeq: UInt32) -> [LedgerRecord] {
        let step = 1_000 / perSecond
        return stride(from: fromMs, to: toMs, by: Int(step)).enumerated().map { index, ms in
            let session = UInt32(index % 100)
            return Self.record(firstSeq + UInt32(index), session: session, Int(session) < weight ? .green : .blue, atMs: ms)
        }
    }

    static let storm = FaultWindow(
        target: .green, fault: Fault(id: "storm", kind: .status(code: 429, retryAfter: .seconds(2), headers: [], message: nil), probability: 0.5), startUs: 0)

    /// Four green requests; t-2 got the injected 429 with Retry-After, relayed as `client` says.
    static func relayRun(status: UInt16 = 429, bytes: UInt32 = 120, stamped: Bool = true, retryAfter: String? = "2") -> RunHistory {
        var records = (0..<4).map { Self.record(UInt32($0), session: UInt32($0), .green, atMs: UInt32($0)) }
        records[2].status = status
        records[2].bytes = bytes
        records[2].fault = stamped ? 1 : 0
        records[2].flags = LedgerRecord.stampedFlag
        records[2].outcome = .upstreamFault
        var failed = Self.entry("t-2")
        failed.status = 429
        failed.bytes = 120
        failed.faults = ["storm"]
        failed.faultHeaders = ["retry-after": "2", "x-ratelimit-remaining-requests": "0"]
        var headers = ["x-ratelimit-remaining-requests": "0"]
        if let retryAfter { headers["retry-after"] = retryAfter }
        let ledger = ClientLedger(runID: "t", records: records, faultStamps: ["none", "storm"], errorHeaders: [2: headers])
        let upstream: [ServedBy: [LedgerEntry]] = [.green: records.map { $0.seq == 2 ? failed : Self.entry(for: $0) }]
        return RunHistory(client: ledger, upstream: upstream, phases: [Self.whole], faults: [storm])
    }

    @Test func faithfulRelayCatchesARouterThatRewritesUpstreamErrors() throws {
        let faithful = Self.relayRun()
        #expect(FaithfulRelay().evaluate(faithful, CheckSpec(name: "FaithfulRelay")).status == .pass)
        #expect(ReconciledRun(faithful).records[2].outcome == .upstreamFault)

        // The bad router answered its own 502 with its own body instead: altered, and the router's own error.
        let rewritten = Self.relayRun(status: 502, bytes: 27, stamped: false)
        let result = FaithfulRelay().evaluate(rewritten, CheckSpec(name: "FaithfulRelay"))
        #expect(result.status == .fail)
        let evidence = try #require(result.evidence as? FaithfulRelay.Evidence)
        #expect(evidence.injected == 1 && evidence.altered == 1 && evidence.examples.first?.contains("status 429 became 502") == true)
        #expect(ReconciledRun(rewritten).records[2].outcome == .routerError)

        // A router that drops Retry-After.
        let stripped = FaithfulRelay().evaluate(Self.relayRun(retryAfter: nil), CheckSpec(name: "FaithfulRelay"))
        #expect(stripped.status == .fail)
        #expect(try #require(stripped.evidence as? FaithfulRelay.Evidence).examples.first?.contains("retry-after: 2 became absent") == true)

        // No injected error at all: nothing to judge, which is inconclusive, never a pass.
        let records = (0..<4).map { Self.record(UInt32($0), session: UInt32($0), .green, atMs: UInt32($0)) }
        #expect(FaithfulRelay().evaluate(Self.history(records, phases: [Self.whole]), CheckSpec(name: "FaithfulRelay")).status == .inconclusive)
    }

    @Test func convergenceTimeCatchesARouterThatAppliesWeightsLate() {
        let canary = Self.action(.canary(percent: 50), atMs: 2_000)
        let good =
            Self.steady(fromMs: 0, toMs: 2_000, perSecond: 200, weight: 0, firstSeq: 0)
            + Self.steady(fromMs: 2_010, toMs: 8_000, perSecond: 200, weight: 50, firstSeq: 1_000)
        var history = Self.history(good, phases: [Self.whole])
        history.actions = [canary]
        let pass = ConvergenceTime().evaluate(history, CheckSpec(name: "ConvergenceTime"))
        #expect(pass.status == .pass, "\(pass.summary)")

        // The late router keeps the old split for 2.5 s after the call returned.
        let late =
            Self.steady(fromMs: 0, toMs: 4_500, perSecond: 200, weight: 0, firstSeq: 0)
            + Self.steady(fromMs: 4_510, toMs: 8_000, perSecond: 200, weight: 50, firstSeq: 1_000)
        history = Self.history(late, phases: [Self.whole])
        history.actions = [canary]
        let result = ConvergenceTime().evaluate(history, CheckSpec(name: "ConvergenceTime", max: .seconds(1)))
        #expect(result.status == .fail, "\(result.summary)")
        #expect(ConvergenceTime().evaluate(history, CheckSpec(name: "ConvergenceTime", max: .seconds(3))).status == .pass)
    }

    @Test func healthGateCatchesARouterThatIgnoresHealth() throws {
        let outage = FaultWindow(target: .green, fault: Fault(id: "down", kind: .outage(.refuse)), startUs: 1_000_000, endUs: 5_000_000)
        let records = Self.steady(fromMs: 0, toMs: 6_000, perSecond: 100, weight: 0, firstSeq: 0)
        var history = Self.history(records, phases: [Self.whole])
        history.faults = [outage]
        history.actions = [Self.action(.canary(percent: 10), atMs: 2_000, ok: false, after: 0)]
        #expect(HealthGate().evaluate(history, CheckSpec(name: "HealthGate")).status == .pass)

        // The bad router took the canary and sent sessions to the dead green.
        let leaked =
            Self.steady(fromMs: 0, toMs: 2_000, perSecond: 100, weight: 0, firstSeq: 0)
            + Self.steady(fromMs: 2_010, toMs: 6_000, perSecond: 100, weight: 10, firstSeq: 1_000)
        history = Self.history(leaked, phases: [Self.whole])
        history.faults = [outage]
        history.actions = [Self.action(.canary(percent: 10), atMs: 2_000)]
        let result = HealthGate().evaluate(history, CheckSpec(name: "HealthGate"))
        #expect(result.status == .fail)
        let evidence = try #require(result.evidence as? HealthGate.Evidence)
        #expect(evidence.gatedCanaries == 1 && evidence.problems.first?.contains("was accepted") == true && evidence.greenServedWhileGated > 0)
        // A fault that does not make green unhealthy (a 20 % error rate) gates nothing: nothing to judge.
        let some = Fault(id: "some", kind: .status(code: 500, retryAfter: nil, headers: [], message: nil), probability: 0.2)
        history.faults = [FaultWindow(target: .green, fault: some, startUs: 0, endUs: 6_000_000)]
        #expect(HealthGate().evaluate(history, CheckSpec(name: "HealthGate")).status == .inconclusive)
    }

    /// A router without a gate of its own makes HealthGate not applicable, never a pass:
    /// the same refused canary that passes for a router that refused it itself.
    @Test func healthGateIsNotApplicableWithoutTheRoutersOwnGate() {
        let outage = FaultWindow(target: .green, fault: Fault(id: "down", kind: .outage(.refuse)), startUs: 1_000_000, endUs: 5_000_000)
        var history = Self.history(Self.steady(fromMs: 0, toMs: 6_000, perSecond: 100, weight: 0, firstSeq: 0), phases: [Self.whole])
        history.faults = [outage]
        history.actions = [Self.action(.canary(percent: 10), atMs: 2_000, ok: false, after: 0)]
        history.gate = .none(reason: "open-source nginx has no active health checks")
        let result = HealthGate().evaluate(history, CheckSpec(name: "HealthGate"))
        #expect(result.status == .skipped)
        #expect(result.summary.hasPrefix("not applicable") && result.summary.contains("nginx has no active health checks"), "\(result.summary)")
        // Nor does ActionsHonoured ask it again: a gateless router's accepted canary, where the
        // suite expected a gate's refusal, is no problem of its own; with a gate it is.
        history.actions = [
            ActionRecord(action: .canary(percent: 10), expect: .refused, calledUs: 2_000_000, returnedUs: 2_002_000, accepted: true, reportedWeightAfter: 10)
        ]
        #expect(ActionsHonoured().evaluate(history, CheckSpec(name: "ActionsHonoured")).status == .pass)
        history.gate = .router
        #expect(ActionsHonoured().evaluate(history, CheckSpec(name: "ActionsHonoured")).status == .fail)
    }

    /// Convergence must hold: a router that reaches the weight, then drifts back (a reload
    /// whose old workers keep the old split) fails; noise within chance does not.
    @Test func convergenceThatDoesNotHoldFails() {
        let canary = Self.action(.canary(percent: 50), atMs: 2_000)
        let held =
            Self.steady(fromMs: 0, toMs: 2_000, perSecond: 200, weight: 0, firstSeq: 0)
            + Self.steady(fromMs: 2_010, toMs: 9_000, perSecond: 200, weight: 50, firstSeq: 1_000)
        var history = Self.history(held, phases: [Self.whole])
        history.actions = [canary]
        #expect(ConvergenceTime().evaluate(history, CheckSpec(name: "ConvergenceTime")).status == .pass)

        let drifted =
            Self.steady(fromMs: 0, toMs: 2_000, perSecond: 200, weight: 0, firstSeq: 0)
            + Self.steady(fromMs: 2_010, toMs: 5_000, perSecond: 200, weight: 50, firstSeq: 1_000)
            + Self.steady(fromMs: 5_000, toMs: 9_000, perSecond: 200, weight: 10, firstSeq: 3_000)
        history = Self.history(drifted, phases: [Self.whole])
        history.actions = [canary]
        let result = ConvergenceTime().evaluate(history, CheckSpec(name: "ConvergenceTime"))
        #expect(result.status == .fail, "\(result.summary)")
        #expect(result.summary.contains("left its weight"), "\(result.summary)")
        let evidence = result.evidence as? ConvergenceTime.Evidence
        #expect(evidence?.changes.first?.leftShare.map { $0 < 0.2 } == true)
    }

    /// SwitchTail sees what LatencyBudget's p90 cannot: a few requests held 150 ms at a
    /// switch. Held as long in a window without an action, it cannot tell: inconclusive.
    @Test func switchTailCatchesAFewRequestsHeldAtASwitch() {
        let canary = Self.action(.canary(percent: 50), atMs: 10_000)
        func run(slowAtMs: [UInt32]) -> RunHistory {
            var records = Self.steady(fromMs: 0, toMs: 20_000, perSecond: 200, weight: 0, firstSeq: 0)
            for index in records.indices {
                let ms = records[index].intendedUs / 1_000
                if slowAtMs.contains(where: { ms >= $0 && ms < $0 + 25 }) { records[index].doneUs += 150_000 }
            }
            var history = Self.history(records, phases: [Self.whole])
            history.actions = [canary]
            return history
        }
        let quiet = SwitchTail().evaluate(run(slowAtMs: []), CheckSpec(name: "SwitchTail"))
        #expect(quiet.status == .pass, "\(quiet.summary)")

        let held = run(slowAtMs: [10_200])
        let tail = SwitchTail().evaluate(held, CheckSpec(name: "SwitchTail"))
        #expect(tail.status == .fail, "\(tail.summary)")
        let evidence = tail.evidence as? SwitchTail.Evidence
        #expect(evidence?.windows.first.map { $0.routerAddedMs > 140 && $0.verdict == "fail" } == true, "\(String(describing: evidence))")
        // Five of 200 requests in the window: the p90 does not move.
        #expect(LatencyBudget().evaluate(held, CheckSpec(name: "LatencyBudget")).status != .fail)
        // A bound above the stall passes it.
        #expect(SwitchTail().evaluate(held, CheckSpec(name: "SwitchTail", max: .milliseconds(200))).status == .pass)

        // The same stall without an action too: the run's own tails are that bad.
        let noisy = SwitchTail().evaluate(run(slowAtMs: [10_200, 3_000, 16_000]), CheckSpec(name: "SwitchTail"))
        #expect(noisy.status == .inconclusive, "\(noisy.summary)")
    }

    /// CrashRecovery: a router back within a few milliseconds of the kill passes; one that
    /// answers nothing for 5 s after it, or is never started again, fails. What the crash
    /// took is counted the way ZeroDropped leaves it out.
    @Test func crashRecoveryCatchesARouterSlowToServeAgain() throws {
        let crash = ActionRecord(action: .crash, calledUs: 2_000_000, returnedUs: 2_050_000, accepted: true)
        var history = Self.history(Self.steady(fromMs: 0, toMs: 9_000, perSecond: 100, weight: 0, firstSeq: 0), phases: [Self.whole])
        history.actions = [crash]
        let quick = CrashRecovery().evaluate(history, CheckSpec(name: "CrashRecovery"))
        #expect(quick.status == .pass, "\(quick.summary)")

        // Nothing answered from the kill until 7 s: back 5 s later.
        let slow =
            Self.steady(fromMs: 0, toMs: 2_000, perSecond: 100, weight: 0, firstSeq: 0)
            + (0..<500).map { Self.record(UInt32(200 + $0), session: UInt32($0 % 100), .blue, .transport, atMs: 2_000 + UInt32($0) * 10) }
            + Self.steady(fromMs: 7_000, toMs: 9_000, perSecond: 100, weight: 0, firstSeq: 1_000)
        history = Self.history(slow, phases: [Self.whole])
        history.actions = [crash]
        let late = CrashRecovery().evaluate(history, CheckSpec(name: "CrashRecovery"))
        #expect(late.status == .fail && late.summary.contains("served again only 5."), "\(late.summary)")
        let evidence = try #require(late.evidence as? CrashRecovery.Evidence)
        // Sent before the start call returned: the crash's (ZeroDropped leaves them out too).
        #expect(evidence.crashes.first?.lostWhileDown == 5, "\(evidence)")
        let dropped = ZeroDropped().evaluate(history, CheckSpec(name: "ZeroDropped"))
        #expect((dropped.evidence as? ZeroDropped.Evidence)?.lostToCrash == 5 && dropped.status == .fail)

        // Never started again.
        history.actions = [ActionRecord(action: .crash, calledUs: 2_000_000, returnedUs: 2_050_000, accepted: false, detail: "start failed")]
        #expect(CrashRecovery().evaluate(history, CheckSpec(name: "CrashRecovery")).status == .fail)
    }

    @Test func streamIntegrityCatchesStreamsCutAtASwitch() {
        var plan = LoadPlan(url: "http://127.0.0.1:1", model: .open(rate: 10), duration: .seconds(5))
        plan.mix = [LoadPlan.MixEntry(endpoint: .chatStream, weight: 1, maxTokens: 8)]
        func stream(_ seq: UInt32, tokens: UInt16, done: Bool, outcome: Outcome) -> LedgerRecord {
            var r = Self.record(seq, session: seq, .blue, outcome, atMs: 1_000 + seq * 10)
            r.endpoint = .chatStream
            r.doneUs = 3_000_000
            r.tokens = tokens
            r.chunks = tokens + 2
            r.usageTokens = tokens
            r.flags = done ? LedgerRecord.doneFlag : 0
            return r
        }
        let whole = (0..<5).map { stream($0, tokens: 8, done: true, outcome: .ok) }
        var history = Self.history(whole, phases: [Self.whole])
        history.plan = plan
        history.actions = [Self.action(.promote, atMs: 2_000)]
        #expect(StreamIntegrity().evaluate(history, CheckSpec(name: "StreamIntegrity")).status == .pass)

        // The restarting router cut two streams at the switch.
        let cut = whole.prefix(3) + [stream(3, tokens: 4, done: false, outcome: .transport), stream(4, tokens: 7, done: false, outcome: .transport)]
        history = Self.history(Array(cut), phases: [Self.whole])
        history.plan = plan
        history.actions = [Self.action(.promote, atMs: 2_000)]
        let result = StreamIntegrity().evaluate(history, CheckSpec(name: "StreamIntegrity"))
        #expect(result.status == .fail && result.summary.hasPrefix("2 of 5"))

        // What the client asked for is the measure, never what the upstream was asked: a
        // stream that got [DONE] after 6 of its 8 tokens lost some (a router that capped
        // max_tokens upstream makes exactly that), a usage chunk that disagrees is wrong, and
        // a stream the upstream did not finish (the router closed its side) is broken even if
        // the client's count matches.
        var upstream = whole.map { Self.entry(for: $0) }
        upstream[1].outcome = .clientGone
        var short = whole
        short[2].tokens = 6
        short[3].usageTokens = 7
        history = Self.history(short, phases: [Self.whole], upstream: [.blue: upstream])
        history.plan = plan
        history.actions = [Self.action(.promote, atMs: 2_000)]
        let judged = StreamIntegrity().evaluate(history, CheckSpec(name: "StreamIntegrity"))
        #expect(judged.status == .fail && judged.summary.hasPrefix("3 of 5"), "\(judged.summary)")
        let examples = (judged.evidence as? StreamIntegrity.Evidence)?.examples ?? []
        #expect(examples.contains { $0.contains("upstream client-gone") }, "\(examples)")
        #expect(examples.contains { $0.contains("6 of 8 tokens") } && examples.contains { $0.contains("usage says 7") }, "\(examples)")
    }

    @Test func stateSurvivesRestartCatchesARouterThatForgetsItsWeights() throws {
        let records = Self.steady(fromMs: 0, toMs: 10_000, perSecond: 100, weight: 30, firstSeq: 0)
        var history = Self.history(records, phases: [Self.whole])
        history.actions = [Self.action(.canary(percent: 30), atMs: 1_000), Self.action(.restart, atMs: 5_000, before: 30, after: 30)]
        #expect(StateSurvivesRestart().evaluate(history, CheckSpec(name: "StateSurvivesRestart")).status == .pass)

        // The forgetful router comes back at 0 %: weights differ and green's sessions moved to blue.
        let forgot = records.map { record -> LedgerRecord in
            var r = record
            if r.intendedUs > 5_002_000 { r.servedBy = .blue }
            return r
        }
        history = Self.history(forgot, phases: [Self.whole])
        history.actions = [Self.action(.canary(percent: 30), atMs: 1_000), Self.action(.restart, atMs: 5_000, before: 30, after: 0)]
        let result = StateSurvivesRestart().evaluate(history, CheckSpec(name: "StateSurvivesRestart"))
        #expect(result.status == .fail)
        let evidence = try #require(result.evidence as? StateSurvivesRestart.Evidence)
        #expect(evidence.problems.contains { $0.contains("came back as 0 %") } && evidence.sessionsMoved == 30)
    }

    /// Weights only the driver reports (nginx) are its own record: a driver that wrote 0 %
    /// after the restart is not taken at its word either way. The sessions judge: the same
    /// forgetful router still fails, and one whose sessions held passes with the note.
    @Test func weightsOnlyTheDriverReportsAreNotComparedTheSessionsJudge() throws {
        let records = Self.steady(fromMs: 0, toMs: 10_000, perSecond: 100, weight: 30, firstSeq: 0)
        let driver = WeightSource.driver(reason: "the driver's own record")
        var history = Self.history(records, phases: [Self.whole])
        history.weightSource = driver
        history.actions = [Self.action(.canary(percent: 30), atMs: 1_000), Self.action(.restart, atMs: 5_000, before: 30, after: 0)]
        let held = StateSurvivesRestart().evaluate(history, CheckSpec(name: "StateSurvivesRestart"))
        #expect(held.status == .pass && held.summary.contains("weights not compared: the driver's own record"), "\(held.summary)")
        let forgot = records.map { record -> LedgerRecord in
            var r = record
            if r.intendedUs > 5_002_000 { r.servedBy = .blue }
            return r
        }
        history = Self.history(forgot, phases: [Self.whole])
        history.weightSource = driver
        history.actions = [Self.action(.canary(percent: 30), atMs: 1_000), Self.action(.restart, atMs: 5_000, before: 30, after: 30)]
        #expect(StateSurvivesRestart().evaluate(history, CheckSpec(name: "StateSurvivesRestart")).status == .fail)
        // ActionsHonoured does not compare the driver's figure with what was asked.
        history.actions = [ActionRecord(action: .canary(percent: 10), calledUs: 2, returnedUs: 3, accepted: true, reportedWeightAfter: 20)]
        let honoured = ActionsHonoured().evaluate(history, CheckSpec(name: "ActionsHonoured"))
        #expect(honoured.status == .pass && honoured.summary.contains("weights not compared"), "\(honoured.summary)")
        #expect((honoured.evidence as? ActionsHonoured.Evidence)?.weightsReportedBy == "driver")
        history.weightSource = .router
        #expect(ActionsHonoured().evaluate(history, CheckSpec(name: "ActionsHonoured")).status == .fail)
    }
}
