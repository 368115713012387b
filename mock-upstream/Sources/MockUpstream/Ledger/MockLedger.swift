import Foundation
import HTTPServerCore
import NIOConcurrencyHelpers

/// Every request the mock received, in arrival order, with how it ended.
///
/// Stored in fixed-size pages so that growing never copies the whole history while
/// the lock is held (which would stall every event loop). Bounded: past `capacity` the
/// oldest page is dropped and its entries counted in `dropped`, never silently lost.
public final class MockLedger: Sendable {
    private struct State {
        var pages: [[LedgerEntry]] = []
        /// Sequence number of `pages[0][0]`.
        var firstSeq: UInt64 = 1
        var count = 0
        var nextSeq: UInt64 = 1
        var dropped: UInt64 = 0
        var outcomes: [RequestOutcome: Int] = [:]
        var byFault: [String: Int] = [:]
        var byPath: [String: Int] = [:]
        var byStatus: [Int: Int] = [:]
        /// Kept-alive connections closed by an idle-close fault.
        var idleCloses = 0
    }

    package let capacity: Int
    private let pageSize: Int
    private let state = NIOLockedValueBox(State())

    package init(capacity: Int = 1_000_000) {
        self.capacity = max(1, capacity)
        self.pageSize = min(4096, self.capacity)
    }

    /// Records an arrival (`entry` with its request fields filled in) and returns its
    /// sequence number.
    func begin(_ entry: LedgerEntry) -> UInt64 {
        var entry = entry
        entry.arrivalMs = Self.nowMs()
        entry.outcome = .inFlight
        let pageSize = self.pageSize
        let capacity = self.capacity
        return state.withLockedValue { state in
            let seq = state.nextSeq
            state.nextSeq += 1
            if state.pages.isEmpty || state.pages[state.pages.count - 1].count == pageSize {
                if state.count + pageSize > capacity, !state.pages.isEmpty {
                    let oldest = state.pages.removeFirst()
                    state.count -= oldest.count
                    state.dropped += UInt64(oldest.count)
                    state.firstSeq += UInt64(oldest.count)
                }
                var page: [LedgerEntry] = []
                page.reserveCapacity(pageSize)
                state.pages.append(page)
            }
            entry.seq = seq
            state.pages[state.pages.count - 1].append(entry)
            state.count += 1
            state.outcomes[.inFlight, default: 0] += 1
            state.byPath[entry.path, default: 0] += 1
            for id in entry.faults { state.byFault[id, default: 0] += 1 }
            return seq
        }
    }

    /// Records the headers an injected error status carried.
    func noteFaultHeaders(_ seq: UInt64, _ headers: [String: String]) {
        state.withLockedValue { state in
            guard seq >= state.firstSeq else { return }
            let offset = Int(seq - state.firstSeq)
            guard offset < state.count else { return }
            let (page, slot) = offset.quotientAndRemainder(dividingBy: pageSize)
            state.pages[page][slot].faultHeaders = headers
        }
    }

    /// Records how request `seq` ended.
    func finish(_ seq: UInt64, _ end: ExchangeEnd) {
        let now = Self.nowMs()
        state.withLockedValue { state in
            state.outcomes[.inFlight, default: 0] -= 1
            state.outcomes[end.outcome, default: 0] += 1
            if let status = end.status { state.byStatus[status, default: 0] += 1 }
            if let cause = end.interruptedBy { state.byFault[cause, default: 0] += 1 }
            guard seq >= state.firstSeq else { return }
            let offset = Int(seq - state.firstSeq)
            guard offset < state.count else { return }
            let (page, slot) = offset.quotientAndRemainder(dividingBy: pageSize)
            state.pages[page][slot].finishMs = now
            state.pages[page][slot].status = end.status
            state.pages[page][slot].outcome = end.outcome
            state.pages[page][slot].bytes = end.bytes
            state.pages[page][slot].chunks = end.chunks
            state.pages[page][slot].bodyDigest = end.bodyDigest
            state.pages[page][slot].contentDigest = end.contentDigest
            state.pages[page][slot].interruptedBy = end.interruptedBy
        }
    }

    /// Entries with `seq > since`, at most `limit` of them.
    public func entries(since: UInt64 = 0, limit: Int = .max) -> [LedgerEntry] {
        let pageSize = self.pageSize
        return state.withLockedValue { state in
            let start = since < state.firstSeq ? 0 : Int(since - state.firstSeq + 1)
            guard start < state.count, limit > 0 else { return [] }
            let end = start + min(limit, state.count - start)
            var result: [LedgerEntry] = []
            result.reserveCapacity(end - start)
            for offset in start..<end {
                let (page, slot) = offset.quotientAndRemainder(dividingBy: pageSize)
                result.append(state.pages[page][slot])
            }
            return result
        }
    }

    /// The sequence number the next request will get.
    package var nextSeq: UInt64 { state.withLockedValue { $0.nextSeq } }

    /// Requests received whose response has not ended yet.
    public var inFlight: Int { state.withLockedValue { $0.outcomes[.inFlight, default: 0] } }

    /// Waits (polling, bounded by `timeout`) until no response is in flight, so that a
    /// reader sees how the last ones ended; a hung request simply runs the bound out.
    public func waitUntilSettled(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while inFlight > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Counts a connection an idle-close fault closed (after the answer whose entry
    /// carries the fault's id).
    func noteIdleClose() {
        state.withLockedValue { $0.idleCloses += 1 }
    }

    /// Connections closed by an idle-close fault so far.
    public var idleCloses: Int { state.withLockedValue { $0.idleCloses } }

    /// Entries dropped because the ledger was full.
    public var dropped: UInt64 { state.withLockedValue { $0.dropped } }

    /// Counters for `GET /_mock/stats`.
    package var stats: JSON {
        state.withLockedValue { state in
            let total = Int(state.nextSeq - 1)
            return .object([
                ("requests", .int(total)),
                ("in_flight", .int(state.outcomes[.inFlight, default: 0])),
                ("outcomes", .object(RequestOutcome.allCases.map { ($0.rawValue, .int(state.outcomes[$0, default: 0])) })),
                ("by_status", .object(state.byStatus.keys.sorted().map { (String($0), .int(state.byStatus[$0]!)) })),
                ("by_path", .object(state.byPath.keys.sorted().map { ($0, .int(state.byPath[$0]!)) })),
                ("by_fault", .object(state.byFault.keys.sorted().map { ($0, .int(state.byFault[$0]!)) })),
                ("idle_closes", .int(state.idleCloses)),
                ("ledger_dropped", .int(Int(state.dropped))),
            ])
        }
    }

    /// Forgets everything; sequence numbers start again at 1.
    package func reset() {
        state.withLockedValue { $0 = State() }
    }

    static func nowMs() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1_000_000
    }
}
