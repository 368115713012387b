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
        #expect(starvedCheck.summary.contains("ran out of file descriptors for 1") && (starvedCheck.evidence as? GeneratorValid.Evidence)?.generatorAtFault == true)
    }
}
