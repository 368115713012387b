/// The slots that waited for a transfer slot because every one was still waiting on the
/// router: the open model keeps at most `max_in_flight` requests out, so a router that
/// stops answering holds the generator back. Those slots are the router's doing when the
/// machine was quiet meanwhile (the control path, which bypasses the router, says so); a
/// stalled machine makes them the generator's own lateness.
package struct BackPressure: Sendable {
    /// Record indices of slots never sent because every transfer slot was held.
    package let notSent: [Int]
    /// Record indices of slots sent late for the same reason.
    package let sentLate: [Int]
    /// The machine over the span, when any slot was held back.
    package let machine: MachineNoise?

    /// A stall of the machine this long (the control path's p90 above its median) makes the
    /// held slots the machine's: far above loopback's noise, far below a router that stopped.
    static let machineBoundUs: UInt32 = 100_000

    init(records: [LedgerRecord], machine control: ControlPath, maxLagUs: UInt32) {
        var notSent: [Int] = []
        var sentLate: [Int] = []
        for (index, record) in records.enumerated() where record.heldBack {
            if record.outcome == .notSent { notSent.append(index) } else { sentLate.append(index) }
        }
        self.notSent = notSent
        self.sentLate = sentLate
        let held = notSent + sentLate
        guard let first = held.map({ records[$0].intendedUs }).min(), let last = held.map({ records[$0].intendedUs }).max() else {
            machine = nil
            return
        }
        machine = control.noise(fromUs: first > maxLagUs ? first - maxLagUs : 0, toUs: last &+ 1, boundUs: Self.machineBoundUs, generatorLag: false)
    }

    /// Slots were held back while the machine was quiet: the router stopped answering.
    package var isRouters: Bool { !(notSent.isEmpty && sentLate.isEmpty) && machine?.noisy == false }

    /// Record indices of never-sent slots that are the router's drops.
    package var routerDropped: [Int] { isRouters ? notSent : [] }
}
