import MockUpstream

/// What the timeline has done so far, on the ledger's clock: actions, phases, faults and
/// the log. The runner's steps and its progress reporter share it.
actor TimelineState {
    private(set) var actions: [RunHistory.ActionRecord] = []
    private(set) var log: [String] = []
    private var phases: [(name: String, startUs: UInt32, weight: Int)] = []
    private var faults: [RunHistory.FaultWindow] = []
    private var weight: Int

    init(initialWeight: Int, staticFaults: [ServedBy: [Fault]]) {
        weight = initialWeight
        for (target, list) in staticFaults {
            for fault in list {
                faults.append(Self.window(fault, on: target, from: 0))
            }
        }
    }

    var currentPhase: String { phases.last?.name ?? "-" }

    func append(_ line: String) { log.append(line) }

    func acted(_ record: RunHistory.ActionRecord) {
        actions.append(record)
        if let green = record.greenWeight { weight = green }
    }

    func phaseStarted(_ name: String, atUs: UInt32) { phases.append((name, atUs, weight)) }

    func faultStarted(target: ServedBy, fault: Fault, atUs: UInt32) {
        faults.append(Self.window(fault, on: target, from: atUs))
    }

    func healed(target: ServedBy, id: String?, atUs: UInt32) {
        for index in faults.indices where faults[index].target == target && faults[index].endUs == .max && (id == nil || faults[index].id == id) {
            faults[index].endUs = atUs
        }
    }

    func faultWindows(endUs: UInt32) -> [RunHistory.FaultWindow] {
        faults.map { window in
            var window = window
            window.endUs = min(window.endUs, endUs)
            return window
        }
    }

    /// Each phase runs to the next phase, or to the next weight change inside it (the
    /// rest is no longer steady at the phase's weight), or to the end of the run.
    func phaseWindows(endUs: UInt32) -> [RunHistory.PhaseWindow] {
        phases.enumerated().map { index, phase in
            var end = index + 1 < phases.count ? phases[index + 1].startUs : endUs
            if let change = actions.first(where: { $0.greenWeight != nil && $0.calledUs > phase.startUs && $0.calledUs < end }) {
                end = change.calledUs
            }
            return RunHistory.PhaseWindow(name: phase.name, startUs: phase.startUs, endUs: end, greenWeight: phase.weight)
        }
    }

    /// A fault's window, open until healed.
    static func window(_ fault: Fault, on target: ServedBy, from startUs: UInt32) -> RunHistory.FaultWindow {
        RunHistory.FaultWindow(
            target: target, id: fault.id, kind: fault.kind.name, startUs: startUs, endUs: .max, makesUnhealthy: makesUnhealthy(fault),
            onlyDelays: fault.kind.isShaping)
    }

    /// Faults every health probe fails against: an outage, or a 5xx for every request.
    static func makesUnhealthy(_ fault: Fault) -> Bool {
        guard fault.probability >= 1, fault.match.isEmpty else { return false }
        switch fault.kind {
        case .outage: return true
        case .status(let code, _, _, _): return code >= 500
        default: return false
        }
    }
}
