import Cutover
import Foundation
import HTTPServerCore
import Testing

@testable import MockUpstream

/// Every exchange judged end to end (issue 26): an answer is the upstream's answer to this
/// very request or it is dropped, every upstream execution is someone's, every attempt is
/// evidence, and what the upstream or the harness broke is never the router's.
@Suite("Exchanges end to end")
struct ExchangeReconcileTests {
    static func green(_ count: Int) -> [LedgerRecord] {
        (0..<count).map { ChecksTests.record(UInt32($0), session: UInt32($0), .green, atMs: UInt32(10 * $0)) }
    }

    static func settle(_ records: [LedgerRecord], upstream: [ServedBy: [LedgerEntry]]? = nil, relay: RelayKind = .verbatim, faults: [FaultWindow] = [])
        -> ReconciledRun
    {
        var history = ChecksTests.history(records, phases: [ChecksTests.whole], upstream: upstream)
        history.relay = RelayTerms(kind: relay)
        history.faults = faults
        return ReconciledRun(history)
    }

    @Test func anAnswerMustBeTheUpstreamsAnswerToThisVeryRequest() {
        var records = Self.green(3)
        let upstream = [ServedBy.green: records.map(ChecksTests.entry(for:))]
        #expect(Self.settle(records, upstream: upstream).records.allSatisfy { $0.outcome == .ok })
        // t-0's client got t-1's answer: same length, same status, no echo to give it away.
        records[0].answerDigest = ChecksTests.answer(1)
        var run = Self.settle(records, upstream: upstream)
        #expect(run.records[0].outcome == .transport && run.finding(0) == .anotherRequestsAnswer)
        // An answer that is no execution's at all was altered on the way.
        records[0].answerDigest = 0xBAD
        run = Self.settle(records, upstream: upstream)
        #expect(run.records[0].outcome == .transport && run.finding(0) == .alteredAnswer)
        // The echoed X-Request-ID of another request says it even when the bytes match.
        records[0].answerDigest = ChecksTests.answer(0)
        records[0].flags |= LedgerRecord.echoDifferedFlag
        run = Self.settle(records, upstream: upstream)
        #expect(run.records[0].outcome == .transport && run.finding(0) == .anotherRequestsAnswer)
        // A chat 2xx that no upstream executed is a made-up answer; a model list may be the router's own.
        var models = Self.green(2)
        models[1].endpoint = .models
        run = Self.settle(models, upstream: [:])
        #expect(run.records[0].outcome == .transport && run.finding(0) == .noUpstreamExecution && run.records[1].outcome == .ok)
        let dropped = ZeroDropped().evaluate(run, CheckSpec(name: "ZeroDropped"))
        #expect((dropped.evidence as? ZeroDropped.Evidence)?.examples.first?.contains("(no upstream execution)") == true, "\(dropped.evidence)")
    }

    /// A gateway that re-encodes answers is held to their content, a proxy to their bytes.
    @Test func aSemanticRelayIsJudgedOnContentAVerbatimOneOnBytes() {
        var records = Self.green(2)
        var entries = records.map(ChecksTests.entry(for:))
        entries[0].bodyDigest = 0x0BE5
        records[0].bytes = 120
        #expect(Self.settle(records, upstream: [.green: entries], relay: .semantic).records[0].outcome == .ok)
        let verbatim = Self.settle(records, upstream: [.green: entries], relay: .verbatim)
        #expect(verbatim.records[0].outcome == .transport && verbatim.finding(0) == .alteredAnswer)
        // Content differs too: dropped either way.
        entries[0].contentDigest = 0xC0DE
        #expect(Self.settle(records, upstream: [.green: entries], relay: .semantic).records[0].outcome == .transport)
    }

    /// A copy under another request id is attributed by the identity its body carries; the
    /// router's probes are told apart by their shape; anything else is listed, and counts.
    @Test func everyUpstreamExecutionIsSomeones() throws {
        let records = Self.green(3)
        var copy = ChecksTests.entry("mirror-1")
        copy.bodyRequestID = "t-1"
        var probe = ChecksTests.entry("health-green-3")
        probe.messagesDigest = 1
        probe.maxTokens = 5
        var listing = ChecksTests.entry("probe")
        listing.method = "GET"
        listing.path = "/v1/models"
        var madeUp = ChecksTests.entry("x-9")
        madeUp.stream = true
        madeUp.messagesDigest = 2
        let run = Self.settle(records, upstream: [.green: records.map(ChecksTests.entry(for:)) + [copy, probe, listing, madeUp]])
        #expect(run.executionCount(1) == 2 && run.records[1].outcome == .ok)
        #expect(run.unattributed(on: .green).map(\.requestID) == ["x-9"] && run.probeCount(on: .green) == 2)
        let check = NoDuplicateExecution().evaluate(run, CheckSpec(name: "NoDuplicateExecution"))
        let evidence = try #require(check.evidence as? NoDuplicateExecution.Evidence)
        #expect(check.status == .fail && evidence.duplicated == 1 && evidence.unattributed == 1 && evidence.probes == 2, "\(check.summary)")
        #expect(evidence.duplicatedIDs.first?.contains("green as mirror-1") == true && evidence.unattributedExamples.first?.hasPrefix("x-9 on green") == true)
    }

    /// An outage that closed green's port under an exchange cut it: the router's 502 for it,
    /// or the stream it had to cut, is the upstream's doing, and nothing else is.
    @Test func whatAnOutageCutInFlightIsTheUpstreams() {
        let down = FaultWindow(target: .green, fault: Fault(id: "down", kind: .outage(.refuse)), startUs: 5_000)
        var records = Self.green(2)
        records[0].status = 502
        records[1].endpoint = .chatStream
        records[1].curlCode = 18
        var entries = records.map(ChecksTests.entry(for:))
        for index in entries.indices {
            entries[index].outcome = .reset
            entries[index].status = index == 0 ? nil : 200
            entries[index].interruptedBy = "down"
        }
        var run = Self.settle(records, upstream: [.green: entries], faults: [down])
        #expect(run.records.map(\.outcome) == [.upstreamFault, .upstreamFault])
        for index in entries.indices { entries[index].interruptedBy = nil }
        run = Self.settle(records, upstream: [.green: entries], faults: [down])
        #expect(run.records.map(\.outcome) == [.routerError, .transport])
    }

    /// Every attempt is evidence: a POST libcurl had to send again was dropped, however the
    /// replay went; a GET is reported.
    @Test func aReplayedPostIsDroppedAReplayedGetIsReported() {
        var records = Self.green(2)
        records[1].endpoint = .models
        records[0].attempts = 2
        records[1].attempts = 2
        let run = Self.settle(records)
        #expect(run.records[0].outcome == .transport && run.finding(0) == .firstAttemptUnanswered)
        #expect(run.records[1].outcome == .ok && run.finding(1) == .replayedGet)
        #expect(run.executionCount(0) == 1)
    }

    /// Slots the generator could not start because every transfer slot waited on the router
    /// are the router's when the control path shows a quiet machine, and the generator's
    /// own lateness when it does not.
    @Test func slotsARouterHeldBackAreItsWhenTheMachineWasQuiet() throws {
        var records = (0..<200).map { ChecksTests.record(UInt32($0), session: 1, .blue, atMs: UInt32(10 * $0)) }
        for index in 100..<120 {
            records[index] = ChecksTests.record(UInt32(index), session: 1, .unknown, .notSent, atMs: UInt32(10 * index))
            records[index].flags |= LedgerRecord.heldBackFlag
        }
        var history = ChecksTests.history(records, phases: [ChecksTests.whole])
        let quiet = GeneratorValid().evaluate(ReconciledRun(history), CheckSpec(name: "GeneratorValid"))
        let evidence = try #require(quiet.evidence as? GeneratorValid.Evidence)
        #expect(quiet.status == .fail && !evidence.generatorAtFault && evidence.heldBackByRouter == 20 && evidence.notSent == 0, "\(quiet.summary)")
        let dropped = ZeroDropped().evaluate(ReconciledRun(history), CheckSpec(name: "ZeroDropped"))
        #expect(dropped.status == .fail && (dropped.evidence as? ZeroDropped.Evidence)?.heldBack == 20)
        // The control path stalled 300 ms while the slots were held: the machine, not the router.
        history.control = ChecksTests.control(untilUs: 3_000_000, slow: [(from: 500_000, to: 1_300_000, extraUs: 300_000)])
        let noisy = GeneratorValid().evaluate(ReconciledRun(history), CheckSpec(name: "GeneratorValid"))
        #expect(noisy.status == .fail && (noisy.evidence as? GeneratorValid.Evidence)?.generatorAtFault == true, "\(noisy.summary)")
        // The harness's own descriptor exhaustion voids the run too.
        var starved = Self.green(3)
        starved[2].outcome = .notSent
        starved[2].flags |= LedgerRecord.descriptorsExhaustedFlag
        let starvedCheck = GeneratorValid().evaluate(ChecksTests.history(starved, phases: [ChecksTests.whole]), CheckSpec(name: "GeneratorValid"))
        #expect(
            starvedCheck.summary.contains("ran out of file descriptors for 1") && (starvedCheck.evidence as? GeneratorValid.Evidence)?.generatorAtFault == true)
    }

    /// The request must arrive as sent: a rewritten model, a capped `max_tokens`, a dropped
    /// session header, changed messages are each named; a model the profile's map allows
    /// is not a change.
    @Test func requestIntegrityNamesWhatTheRouterChanged() throws {
        var plan = LoadPlan(url: "http://127.0.0.1:1", model: .open(rate: 10), duration: .seconds(1))
        plan.mix = [LoadPlan.MixEntry(endpoint: .chat, weight: 1, maxTokens: 12)]
        var records = Self.green(4)
        for index in records.indices { records[index].messagesDigest = 100 + UInt64(index) }
        var entries = records.map { record -> LedgerEntry in
            var entry = ChecksTests.entry(for: record)
            entry.sessionID = "s\(record.session)"
            entry.messagesDigest = record.messagesDigest
            entry.maxTokens = 12
            return entry
        }
        func judge(_ modelMap: [String: String] = [:]) -> CheckResult {
            var history = ChecksTests.history(records, phases: [ChecksTests.whole], upstream: [.green: entries])
            history.plan = plan
            history.relay = RelayTerms(modelMap: modelMap)
            return RequestIntegrity().evaluate(history, CheckSpec(name: "RequestIntegrity"))
        }
        #expect(judge().status == .pass, "\(judge().summary)")
        entries[0].model = "deepseek-v3.2"
        entries[1].maxTokens = 8
        entries[2].sessionID = nil
        entries[3].messagesDigest = 999
        let result = judge()
        let evidence = try #require(result.evidence as? RequestIntegrity.Evidence)
        #expect(result.status == .fail && evidence.altered == 4)
        #expect(evidence.fields == ["model": 1, "max_tokens": 1, "session": 1, "messages": 1], "\(evidence.fields)")
        #expect(evidence.examples.first == "t-0 on green: model gpt-4.1 became deepseek-v3.2", "\(evidence.examples)")
        #expect(evidence.examples.contains("t-1 on green: max_tokens 12 became 8") && evidence.examples.contains("t-2 on green: X-Session-ID s2 became absent"))
        // A gateway whose profile maps gpt-4.1 to deepseek-v3.2 may do that, and only that.
        let mapped = try #require(judge(["gpt-4.1": "deepseek-v3.2"]).evidence as? RequestIntegrity.Evidence)
        #expect(mapped.fields["model"] == nil && mapped.altered == 3)
    }

    /// An environment at weight 0 executes nothing once the switch took effect: a copy of a
    /// request counts as much as the request, something no request accounts for counts, the
    /// router's probes do not, and a switch is timed from its call.
    @Test func zeroWeightIsolationCountsCopiesAndTimesTheSwitchFromItsCall() throws {
        let history = ChecksTests.rollbackRun(switchAtMs: 1_000, greenUntilMs: 1_000)
        #expect(ZeroWeightIsolation().evaluate(history, CheckSpec(name: "ZeroWeightIsolation")).status == .pass)
        var copy = ChecksTests.entry("mirror-150")
        copy.bodyRequestID = "t-150"
        copy.arrivalMs = 1_500.2
        var madeUp = ChecksTests.entry("x-1")
        madeUp.stream = true
        madeUp.messagesDigest = 7
        madeUp.arrivalMs = 1_600
        var probe = ChecksTests.entry("health-green-1")
        probe.method = "GET"
        probe.path = "/v1/models"
        probe.arrivalMs = 1_700
        var leaky = history
        leaky.upstream[.green, default: []] += [copy, madeUp, probe]
        let result = ZeroWeightIsolation().evaluate(leaky, CheckSpec(name: "ZeroWeightIsolation"))
        let evidence = try #require(result.evidence as? ZeroWeightIsolation.Evidence)
        #expect(result.status == .fail && evidence.leaked == 2, "\(evidence.examples)")
        #expect(evidence.examples.contains { $0.hasPrefix("t-150 after rollback") && $0.contains("(a copy, as mirror-150)") })
        #expect(evidence.examples.contains { $0.hasPrefix("x-1 after rollback") && $0.contains("no request of the run accounts for it") })
        // A rollback whose call blocks 1.3 s while green keeps serving: what green executed
        // more than 1 s after the call leaked, though it was sent before the call returned.
        var blocking = ChecksTests.rollbackRun(switchAtMs: 1_500, greenUntilMs: 1_900)
        blocking.actions[1].calledUs = 200_000
        let blocked = ZeroWeightIsolation().evaluate(blocking, CheckSpec(name: "ZeroWeightIsolation"))
        #expect(blocked.status == .fail && (blocked.evidence as? ZeroWeightIsolation.Evidence)?.leaked == 69, "\(blocked.summary)")
        let rollback = RollbackTime().evaluate(blocking, CheckSpec(name: "RollbackTime"))
        #expect(rollback.status == .fail && rollback.summary.contains("1690.0 ms after the rollback was called"), "\(rollback.summary)")
    }
}
