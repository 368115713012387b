import HTTPServerCore
import NIOConcurrencyHelpers

/// The mock's active faults and the seeded decisions made from them.
///
/// Each fault keeps its own draw counter, so the n-th request that a fault is evaluated on
/// always gets the same decision under the same seed, whatever else is in the list.
package final class FaultPlan: Sendable {
    private struct State {
        var faults: [Fault] = []
        var draws: [String: UInt64] = [:]
    }

    package let seed: UInt64
    private let state: NIOLockedValueBox<State>

    package init(seed: UInt64, faults: [Fault] = []) {
        self.seed = seed
        self.state = NIOLockedValueBox(State(faults: faults))
    }

    /// The active faults, in evaluation order.
    package var faults: [Fault] { state.withLockedValue { $0.faults } }

    /// Replaces the whole list.
    package func replace(with faults: [Fault]) {
        state.withLockedValue { $0.faults = faults }
    }

    /// Appends faults; fails with the offending id if one is already active.
    package func add(_ faults: [Fault]) -> String? {
        state.withLockedValue { state in
            let ids = Set(state.faults.map(\.id))
            if let duplicate = faults.first(where: { ids.contains($0.id) }) { return duplicate.id }
            state.faults += faults
            return nil
        }
    }

    /// Removes one fault; false if no fault has that id.
    package func remove(id: String) -> Bool {
        state.withLockedValue { state in
            let before = state.faults.count
            state.faults.removeAll { $0.id == id }
            return state.faults.count != before
        }
    }

    /// Clears faults and, with `restartDraws`, the decision counters (a fresh replay).
    package func clear(restartDraws: Bool = false) {
        state.withLockedValue { state in
            state.faults = []
            if restartDraws { state.draws = [:] }
        }
    }

    /// Whether a listener-level outage (refuse) is active.
    package var refusesConnections: Bool { state.withLockedValue { $0.faults.contains(where: \.isListenerOutage) } }

    /// The id of the active listener-level outage, if any: what cut the connections it closed.
    package var refusingFaultID: String? { state.withLockedValue { $0.faults.first(where: \.isListenerOutage)?.id } }

    /// Whether a hang outage is active (hung connections are released when it goes).
    package var hangs: Bool {
        state.withLockedValue { $0.faults.contains { if case .outage(.hang) = $0.kind { true } else { false } } }
    }

    /// Decides which faults apply to one request: at most one latency, one stream pace
    /// and one outcome fault (the first of each, in list order, whose draw hits).
    package func decide(path: String, stream: Bool, model: String?) -> FaultDecision {
        state.withLockedValue { state in
            var decision = FaultDecision()
            if state.faults.isEmpty { return decision }
            for fault in state.faults where !fault.isListenerOutage && fault.applies(path: path, stream: stream, model: model) {
                let n = state.draws[fault.id, default: 0]
                state.draws[fault.id] = n + 1
                let stream = SeededRandom.hash(fault.id)
                guard SeededRandom.unit(seed: seed, stream: stream, index: n &* 4) < fault.probability else { continue }
                let u1 = SeededRandom.unit(seed: seed, stream: stream, index: n &* 4 &+ 1)
                let u2 = SeededRandom.unit(seed: seed, stream: stream, index: n &* 4 &+ 2)
                let draw = SeededRandom.bits(seed: seed, stream: stream, index: n &* 4 &+ 3)
                switch fault.kind {
                case .latency(let distribution):
                    guard decision.latencyMs == nil else { continue }
                    decision.latencyMs = distribution.sample(u1, u2)
                case .streamPace(let ttftLow, let tpsLow, let jitter, let perChunk, let ttftHigh, let tpsHigh):
                    guard decision.pace == nil else { continue }
                    let ttft = ttftHigh.map { ttftLow + ($0 - ttftLow) * u1 } ?? ttftLow
                    let tps = tpsHigh.map { tpsLow + ($0 - tpsLow) * u2 } ?? tpsLow
                    decision.pace = StreamPace(ttftMs: ttft, intervalMs: Double(perChunk) * 1000 / tps, jitterMs: jitter, seed: draw, tokensPerChunk: perChunk)
                case .idleClose(let distribution):
                    guard decision.wire.idleCloseMs == nil else { continue }
                    decision.wire.idleCloseMs = distribution.sample(u1, u2)
                case .slicer(let size, let delay):
                    guard decision.wire.sliceBytes == nil else { continue }
                    (decision.wire.sliceBytes, decision.wire.sliceDelayMs) = (size, delay)
                case .bandwidth(let rate):
                    guard decision.wire.bytesPerSecond == nil else { continue }
                    decision.wire.bytesPerSecond = rate
                default:
                    guard decision.outcome == nil else { continue }
                    decision.outcome = fault
                    decision.draw = draw
                    if case .limitData(let bytes) = fault.kind { decision.wire.limitBytes = bytes }
                }
                decision.ids.append(fault.id)
            }
            return decision
        }
    }
}

/// What the fault plan decided for one request.
package struct FaultDecision: Sendable {
    /// Delay before response headers.
    package var latencyMs: Double?
    /// Pacing of stream events.
    package var pace: StreamPace?
    /// The fault that decides how the response goes wrong, if any.
    package var outcome: Fault?
    /// Seeded bits for the outcome fault (garbage bytes and the like).
    package var draw: UInt64 = 0
    /// The byte-level faults and the idle close, for the connection to carry out.
    package var wire = WireShaping()
    /// Ids of every applied fault, in list order; `X-Mock-Fault` and the ledger carry them.
    package var ids: [String] = []

    package init() {}

    /// The `X-Mock-Fault` header value.
    package var stamp: String { ids.isEmpty ? "none" : ids.joined(separator: ",") }
}

/// Time to first token and the pace after it; jitter is drawn per event from `seed`.
package struct StreamPace: StreamTiming, Equatable {
    package var ttftMs: Double
    /// Between chunks: `tokensPerChunk` tokens' worth of the token pace.
    package var intervalMs: Double
    package var jitterMs: Double
    package var seed: UInt64
    /// Tokens in each content chunk (a relay that batches tokens sends fewer, larger events).
    package var tokensPerChunk = 1

    /// The delay before stream event `index` (0 is the first event).
    package func delayMs(before index: Int) -> Double {
        let base = index == 0 ? ttftMs : intervalMs
        guard jitterMs > 0 else { return base }
        let u = SeededRandom.unit(seed: seed, stream: 0x6A17, index: UInt64(index))
        return max(0, base + (u * 2 - 1) * jitterMs)
    }
}
