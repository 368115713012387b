import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// Every request the mock received, in arrival order, with how it ended.
///
/// Bounded: past `capacity` the oldest entries are dropped and counted, never silently.
public final class MockLedger: Sendable {
    private struct State {
        var entries = CircularBuffer<LedgerEntry>(initialCapacity: 1024)
        var nextSeq: UInt64 = 1
        var dropped: UInt64 = 0
        var outcomes: [RequestOutcome: Int] = [:]
        var byFault: [String: Int] = [:]
        var byPath: [String: Int] = [:]
        var byStatus: [Int: Int] = [:]
    }

    public let capacity: Int
    private let state = NIOLockedValueBox(State())

    public init(capacity: Int = 1_000_000) {
        self.capacity = max(1, capacity)
    }

    /// Records an arrival and returns its sequence number.
    func begin(requestID: String, sessionID: String?, method: String, path: String, model: String?, stream: Bool, faults: [String]) -> UInt64 {
        let now = Self.nowMs()
        return state.withLockedValue { state in
            let seq = state.nextSeq
            state.nextSeq += 1
            if state.entries.count >= capacity {
                state.entries.removeFirst()
                state.dropped += 1
            }
            state.entries.append(
                LedgerEntry(
                    seq: seq, requestID: requestID, sessionID: sessionID, method: method, path: path, model: model,
                    stream: stream, arrivalMs: now, finishMs: nil, faults: faults, status: nil, outcome: .inFlight,
                    bytes: 0, chunks: 0))
            state.outcomes[.inFlight, default: 0] += 1
            state.byPath[path, default: 0] += 1
            for id in faults { state.byFault[id, default: 0] += 1 }
            return seq
        }
    }

    /// Records how request `seq` ended.
    func finish(_ seq: UInt64, status: Int?, outcome: RequestOutcome, bytes: Int, chunks: Int) {
        let now = Self.nowMs()
        state.withLockedValue { state in
            state.outcomes[.inFlight, default: 0] -= 1
            state.outcomes[outcome, default: 0] += 1
            if let status { state.byStatus[status, default: 0] += 1 }
            guard let first = state.entries.first?.seq, seq >= first else { return }
            let offset = Int(seq - first)
            guard offset < state.entries.count else { return }
            let index = state.entries.index(state.entries.startIndex, offsetBy: offset)
            state.entries[index].finishMs = now
            state.entries[index].status = status
            state.entries[index].outcome = outcome
            state.entries[index].bytes = bytes
            state.entries[index].chunks = chunks
        }
    }

    /// Entries with `seq > since`, at most `limit` of them.
    public func entries(since: UInt64 = 0, limit: Int = .max) -> [LedgerEntry] {
        state.withLockedValue { state in
            guard let first = state.entries.first?.seq else { return [] }
            let start = since < first ? 0 : Int(since - first + 1)
            guard start < state.entries.count else { return [] }
            let end = min(state.entries.count, start + max(0, min(limit, state.entries.count)))
            var result: [LedgerEntry] = []
            result.reserveCapacity(end - start)
            var index = state.entries.index(state.entries.startIndex, offsetBy: start)
            for _ in start..<end {
                result.append(state.entries[index])
                index = state.entries.index(after: index)
            }
            return result
        }
    }

    /// The sequence number the next request will get.
    public var nextSeq: UInt64 { state.withLockedValue { $0.nextSeq } }

    /// Entries dropped because the ledger was full.
    public var dropped: UInt64 { state.withLockedValue { $0.dropped } }

    /// Counters for `GET /_mock/stats`.
    public var stats: JSON {
        state.withLockedValue { state in
            let total = Int(state.nextSeq - 1)
            return .object([
                ("requests", .int(total)),
                ("in_flight", .int(state.outcomes[.inFlight, default: 0])),
                ("outcomes", .object(RequestOutcome.allCases.map { ($0.rawValue, .int(state.outcomes[$0, default: 0])) })),
                ("by_status", .object(state.byStatus.keys.sorted().map { (String($0), .int(state.byStatus[$0]!)) })),
                ("by_path", .object(state.byPath.keys.sorted().map { ($0, .int(state.byPath[$0]!)) })),
                ("by_fault", .object(state.byFault.keys.sorted().map { ($0, .int(state.byFault[$0]!)) })),
                ("ledger_dropped", .int(Int(state.dropped))),
            ])
        }
    }

    /// Forgets everything; sequence numbers start again at 1.
    public func reset() {
        state.withLockedValue { $0 = State() }
    }

    static func nowMs() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1_000_000
    }
}
