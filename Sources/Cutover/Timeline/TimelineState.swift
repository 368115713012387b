import MockUpstream

/// What the timeline has done so far, on the ledger's clock: actions, phases, faults,
/// the steps the harness could not carry out, and the log. The runner's steps and its
/// progress reporter share it.
package actor TimelineState {
    package private(set) var actions: [ActionRecord] = []
    package private(set) var log: [String] = []
    package private(set) var harnessFailures: [String] = []
    private var phases: [(name: String, openedUs: UInt32, startUs: UInt32, weight: Int)] = []
    private var faults: [FaultWindow] = []
    private var weight: Int

    package init(initialWeight: Int, staticFaults: [ServedBy: [Fault]]) {
        weight = initialWeight
        for (target, list) in staticFaults {
            for fault in list { faults.append(FaultWindow(target: target, fault: fault, startUs: 0)) }
        }
    }

    package var currentPhase: String { phases.last?.name ?? "-" }

    package func append(_ line: String) { log.append(line) }

    package func acted(_ record: ActionRecord) {
        actions.append(record)
        if let green = record.greenWeight { weight = green }
    }

    /// A phase whose step began at `openedUs` and whose steady window starts at `startUs`
    /// (when its action returned).
    package func phaseStarted(_ name: String, openedUs: UInt32, startUs: UInt32) { phases.append((name, openedUs, startUs, weight)) }

    package func faultStarted(target: ServedBy, fault: Fault, atUs: UInt32) {
        faults.append(FaultWindow(target: target, fault: fault, startUs: atUs))
    }

    package func healed(target: ServedBy, id: String?, atUs: UInt32) {
        for index in faults.indices where faults[index].target == target && faults[index].endUs == .max && (id == nil || faults[index].id == id) {
            faults[index].endUs = atUs
        }
    }

    /// A step the harness could not carry out: the run cannot judge what it was for.
    package func harnessFailed(_ text: String) { harnessFailures.append(text) }

    package func faultWindows(endUs: UInt32) -> [FaultWindow] {
        faults.map { window in
            var window = window
            window.endUs = min(window.endUs, endUs)
            return window
        }
    }

    /// Each phase's stretch runs to the next phase's; its steady window runs to the next
    /// phase, or to the next weight change called inside it, or to the end of the run.
    package func phaseWindows(endUs: UInt32) -> [PhaseWindow] {
        phases.enumerated().map { index, phase in
            let closed = index + 1 < phases.count ? phases[index + 1].openedUs : endUs
            var end = index + 1 < phases.count ? phases[index + 1].startUs : endUs
            if let change = actions.first(where: { $0.greenWeight != nil && $0.calledUs > phase.startUs && $0.calledUs < end }) {
                end = change.calledUs
            }
            return PhaseWindow(
                name: phase.name, startUs: phase.startUs, endUs: min(end, closed), greenWeight: phase.weight, openedUs: phase.openedUs, closedUs: closed)
        }
    }
}
