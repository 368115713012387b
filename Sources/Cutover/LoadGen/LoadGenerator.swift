import Foundation
import HTTPServerCore

/// Runs a `LoadPlan`: one engine per thread, each on its own OS thread so the blocking
/// libcurl loop never occupies a Swift concurrency thread. Returns the merged ledger.
package enum LoadGenerator {
    /// Runs the plan to the end (it always stops by itself: bounded by duration and timeouts).
    /// `clock` is the ledger's time base; pass one to put other events on the same line.
    /// Raising `stop` ends the run early, leaving what was in flight out of the ledger.
    package static func run(_ plan: LoadPlan, clock: RunClock = RunClock(), progress: LoadProgress? = nil, stop: StopSignal? = nil) async -> LoadResult {
        let stamps = FaultStampTable()
        let requests = RequestTemplates(plan: plan)
        FileDescriptorTable.reserve(plan.maxInFlight + 1_024)
        // Random arrivals are drawn once, so that every thread stripes the same schedule.
        let arrivals = plan.arrival == .constant ? nil : plan.scheduledCount.map { ArrivalTimes(count: $0, arrival: plan.arrival, seed: plan.seed) }
        let started = Date()
        typealias Part = (
            records: [LedgerRecord], errorHeaders: [UInt32: [String: String]], earlierAttempts: [UInt32: [EarlierAttempt]], http2: (overHTTP2: Int, all: Int)
        )
        let parts = await withTaskGroup(of: Part.self) { group in
            for thread in 0..<max(1, plan.threads) {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        let worker = Thread {
                            let engine = LoadEngine(
                                plan: plan, clock: clock, thread: thread, stamps: stamps, requests: requests, arrivals: arrivals, progress: progress, stop: stop
                            )
                            engine.run()
                            continuation.resume(returning: (engine.records, engine.errorHeaders, engine.earlierAttempts, engine.http2Answers))
                        }
                        worker.name = "cutover-load-\(thread)"
                        worker.stackSize = 1 << 20
                        worker.start()
                    }
                }
            }
            var all: [Part] = []
            for await part in group { all.append(part) }
            return all
        }
        let elapsed = Double(clock.nowNanos) / 1e9
        // Records are appended as requests end, which is not always the order they were
        // sent in (and several threads interleave): the ledger is in sequence order.
        var records = parts.count == 1 ? parts[0].records : parts.flatMap(\.records)
        if !zip(records, records.dropFirst()).allSatisfy({ $0.seq < $1.seq }) { records.sort { $0.seq < $1.seq } }
        withExtendedLifetime(requests) {}
        let errorHeaders = parts.reduce(into: [UInt32: [String: String]]()) { all, part in all.merge(part.errorHeaders) { $1 } }
        let earlierAttempts = parts.reduce(into: [UInt32: [EarlierAttempt]]()) { all, part in all.merge(part.earlierAttempts) { $1 } }
        let ledger = ClientLedger(runID: plan.runID, records: records, faultStamps: stamps.names, errorHeaders: errorHeaders, earlierAttempts: earlierAttempts)
        var result = LoadResult(plan: plan, ledger: ledger, startedAt: started, elapsedSeconds: elapsed)
        result.http2Answers = parts.reduce((0, 0)) { ($0.0 + $1.http2.overHTTP2, $0.1 + $1.http2.all) }
        return result
    }
}

/// A finished run: the plan, the ledger, and a summary computed from the ledger.
package struct LoadResult: Sendable {
    package let plan: LoadPlan
    package let ledger: ClientLedger
    package let startedAt: Date
    package let elapsedSeconds: Double
    package let summary: LoadSummary
    /// Of the answers to `h2` clients, how many came over HTTP/2.
    package var http2Answers: (overHTTP2: Int, all: Int) = (0, 0)

    /// How the `h2` clients were answered, in words; nil when the plan had none.
    package var http2Note: String? {
        guard http2Answers.all > 0 else { return nil }
        let connections =
            CurlTransfer.reusesPriorKnowledgeConnections ? "connections reused" : "a connection per request: libcurl before 8.0 cannot reuse one"
        return "h2 clients: \(http2Answers.overHTTP2) of \(http2Answers.all) answers came over HTTP/2 (prior knowledge, \(connections))"
    }

    init(plan: LoadPlan, ledger: ClientLedger, startedAt: Date, elapsedSeconds: Double) {
        self.plan = plan
        self.ledger = ledger
        self.startedAt = startedAt
        self.elapsedSeconds = elapsedSeconds
        self.summary = LoadSummary(ledger: ledger, elapsedSeconds: elapsedSeconds)
    }

    /// False when the generator could not deliver the plan (any `not-sent` slot).
    package var valid: Bool { summary.outcomes[.notSent, default: 0] == 0 }
}
