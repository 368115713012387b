import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore

/// `bench/checks.sh`'s workload: every check over a synthetic run of N requests (default
/// 1,000,000) with both upstream ledgers, phases, actions, a restart and a gated canary.
/// Prints the time to build the history, to reconcile it, and to evaluate each check.

let count = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 1_000_000
let rate = 1_000.0
let durationUs = UInt32(Double(count) / rate * 1e6)
let sessions: UInt32 = 20_000

/// Phases at fixed fractions of the run, with green's weight in each.
let plan: [(name: String, from: Double, weight: Int)] = [
    ("baseline", 0, 0), ("canary-10", 0.15, 10), ("canary-50", 0.35, 50), ("promoted", 0.55, 100), ("rolled-back", 0.75, 0),
]
var phases: [PhaseWindow] = []
for (index, phase) in plan.enumerated() {
    let end = index + 1 < plan.count ? plan[index + 1].from : 1
    phases.append(.init(name: phase.name, startUs: UInt32(phase.from * Double(durationUs)), endUs: UInt32(end * Double(durationUs)), greenWeight: phase.weight))
}
var actions: [ActionRecord] = []
for phase in phases.dropFirst() {
    let action: RouterAction = phase.greenWeight == 100 ? .promote : phase.greenWeight == 0 ? .rollback : .canary(percent: phase.greenWeight)
    actions.append(
        ActionRecord(action: action, calledUs: phase.startUs - 3_000, returnedUs: phase.startUs, accepted: true, reportedWeightAfter: phase.greenWeight))
}
actions.append(
    ActionRecord(
        action: .restart, calledUs: UInt32(0.45 * Double(durationUs)), returnedUs: UInt32(0.45 * Double(durationUs)) + 100_000, accepted: true,
        reportedWeightBefore: 50, reportedWeightAfter: 50))
actions.sort { $0.calledUs < $1.calledUs }
let outage = FaultWindow(target: .green, fault: Fault(id: "down", kind: .outage(.refuse)), startUs: 1_000, endUs: phases[1].startUs - 10_000)
actions.insert(
    ActionRecord(action: .canary(percent: 10), expect: .refused, calledUs: 2_000_000, returnedUs: 2_005_000, accepted: false, reportedWeightAfter: 0), at: 0)

let built = ContinuousClock.now
var loadPlan = LoadPlan(url: "http://127.0.0.1:1", model: .open(rate: rate), duration: .seconds(Double(count) / rate))
loadPlan.sessions = Int(sessions)
loadPlan.mix = [.init(endpoint: .chat, weight: 80, maxTokens: 16), .init(endpoint: .chatStream, weight: 20, maxTokens: 16)]
loadPlan.runID = "bench"
var records: [LedgerRecord] = []
records.reserveCapacity(count)
var blue: [LedgerEntry] = []
var green: [LedgerEntry] = []
var phaseIndex = 0
for seq in 0..<count {
    let intended = UInt32(Double(seq) / rate * 1e6)
    while phaseIndex + 1 < phases.count, intended >= phases[phaseIndex + 1].startUs { phaseIndex += 1 }
    let choice = loadPlan.choice(forSlot: UInt64(seq))
    let bucket = (choice.session &* 2_654_435_761) % 100
    let env: ServedBy = bucket < UInt32(phases[phaseIndex].greenWeight) ? .green : .blue
    var record = LedgerRecord.notSent(seq: UInt32(seq), session: choice.session, intendedUs: intended, endpoint: choice.endpoint)
    record.sentUs = intended + 80
    record.firstByteUs = record.sentUs + 900 + UInt32(seq % 7) * 100
    record.doneUs = record.firstByteUs + (choice.endpoint == .chatStream ? 4_000 : 300)
    record.status = 200
    record.bytes = 600
    let stream = choice.endpoint == .chatStream
    record.chunks = stream ? 18 : 0
    record.tokens = stream ? 16 : 0
    record.usageTokens = stream ? 16 : 0
    record.flags = LedgerRecord.stampedFlag | LedgerRecord.echoMatchedFlag | (stream ? LedgerRecord.doneFlag : 0)
    record.servedBy = env
    record.outcome = .ok
    // Both ends of the exchange digest the same request and the same answer.
    record.messagesDigest = 0x5EED_0000_0000_0000 | UInt64(seq)
    record.answerDigest = 0xA5A5_0000_0000_0000 | UInt64(seq)
    records.append(record)
    var entry = LedgerEntry(
        seq: UInt64(seq), requestID: "bench-\(seq)", sessionID: "s\(choice.session)", method: "POST", path: "/v1/chat/completions", model: choice.model,
        stream: stream, arrivalMs: Double(record.sentUs) / 1000, finishMs: Double(record.doneUs) / 1000, faults: [], status: 200,
        outcome: .completed, bytes: 600, chunks: Int(record.chunks) + (stream ? 1 : 0))
    entry.bodyRequestID = entry.requestID
    entry.messagesDigest = record.messagesDigest
    entry.maxTokens = 16
    entry.includeUsage = stream
    entry.bodyDigest = record.answerDigest
    entry.contentDigest = record.answerDigest &+ 1
    if env == .green { green.append(entry) } else { blue.append(entry) }
}
let history = RunHistory(
    client: ClientLedger(runID: "bench", records: records, faultStamps: ["none"]), upstream: [.blue: blue, .green: green], phases: phases, actions: actions,
    faults: [outage], plan: loadPlan, wallStartMs: 0)
let buildTime = ContinuousClock.now - built

let specs = CheckCatalog.all.map { CheckSpec(name: $0.name) }
let started = ContinuousClock.now
let reconciled = ReconciledRun(history)
let reconcileTime = ContinuousClock.now - started
var lines: [String] = []
for check in CheckCatalog.all {
    let one = ContinuousClock.now
    let result = check.evaluate(reconciled, CheckSpec(name: check.name))
    let ms = Double((ContinuousClock.now - one).microseconds) / 1000
    lines.append(
        "  " + check.name.padding(toLength: 22, withPad: " ", startingAt: 0) + result.status.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)
            + String(format: "%8.1f ms", ms))
}
let total = ContinuousClock.now - started
print("records \(count), upstream entries \(blue.count + green.count), checks \(specs.count)")
print(lines.joined(separator: "\n"))
print(
    String(
        format: "history built in %.2f s; reconciled in %.3f s; reconciliation and all checks in %.3f s", Double(buildTime.microseconds) / 1e6,
        Double(reconcileTime.microseconds) / 1e6, Double(total.microseconds) / 1e6))
