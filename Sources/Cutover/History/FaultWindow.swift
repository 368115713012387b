import MockUpstream

/// A fault on one upstream, with when it was active on the ledger's clock.
package struct FaultWindow: Sendable, Equatable {
    package var target: ServedBy
    package var fault: Fault
    package var startUs: UInt32
    /// When it was healed; `.max` while it lasted to the end.
    package var endUs: UInt32

    package init(target: ServedBy, fault: Fault, startUs: UInt32, endUs: UInt32 = .max) {
        self.target = target
        self.fault = fault
        self.startUs = startUs
        self.endUs = endUs
    }

    package var id: String { fault.id }

    package func covers(_ us: UInt32) -> Bool { us >= startUs && us < endUs }

    /// Every health probe fails against it (an outage, or a 5xx for every request): a
    /// health-gated router must refuse a canary meanwhile.
    package var makesUnhealthy: Bool {
        guard fault.probability >= 1, fault.match.isEmpty else { return false }
        switch fault.kind {
        case .outage: return true
        case .status(let code, _, _, _): return code >= 500
        default: return false
        }
    }

    /// It only delays (latency, stream pace) and breaks nothing.
    package var onlyDelays: Bool { fault.kind.isShaping }

    /// The upstream is down: what it cut in flight is its own doing.
    package var isOutage: Bool { if case .outage = fault.kind { true } else { false } }

    /// It makes the upstream slow to answer on purpose (a delay, a hang, a stall, a slow
    /// body): a timing check leaves what it slowed out.
    package var delaysAnswer: Bool {
        switch fault.kind {
        case .latency, .streamStall, .slicer, .bandwidth, .outage(.hang): true
        default: false
        }
    }

    /// It answers with an error status: the only kind that excuses a non-2xx.
    package var isStatus: Bool { if case .status = fault.kind { true } else { false } }

    /// It ends a 2xx body or stream early or without `[DONE]`: the only kinds that excuse
    /// a short 200 (a stall only pauses, and a delay breaks nothing).
    package var breaksBody: Bool {
        switch fault.kind {
        case .body, .streamCut, .streamError, .streamNoDone, .limitData: true
        case .latency, .streamPace, .status, .outage, .streamStall, .idleClose, .slicer, .bandwidth: false
        }
    }
}
