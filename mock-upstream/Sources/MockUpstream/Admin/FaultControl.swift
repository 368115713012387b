import HTTPServerCore

/// Applies fault changes and keeps the relay listener in step with them: a `refuse`
/// outage closes the port, clearing it binds the same port again, and removing a
/// `hang` releases the connections it held. An actor, so changes apply one at a time
/// and a change has taken effect when its call returns.
actor FaultControl {
    let plan: FaultPlan
    let ledger: MockLedger
    private let relay: HTTPListener

    init(plan: FaultPlan, ledger: MockLedger, relay: HTTPListener) {
        self.plan = plan
        self.ledger = ledger
        self.relay = relay
    }

    func replace(with faults: [Fault]) async throws {
        plan.replace(with: faults)
        try await sync()
    }

    /// Adds faults; returns the id that clashed, if any (nothing is added then).
    func add(_ faults: [Fault]) async throws -> String? {
        if let duplicate = plan.add(faults) { return duplicate }
        try await sync()
        return nil
    }

    func remove(id: String) async throws -> Bool {
        let removed = plan.remove(id: id)
        try await sync()
        return removed
    }

    func clear() async throws {
        plan.clear()
        try await sync()
    }

    /// Back to a fresh start: no faults, draws replay from the first, empty ledger.
    func reset() async throws {
        plan.clear(restartDraws: true)
        try await sync()
        ledger.reset()
    }

    /// Brings the listener in line with the plan.
    func sync() async throws {
        if plan.refusesConnections {
            if relay.isListening { await relay.refuse(cause: plan.refusingFaultID) }
        } else if !relay.isListening {
            try await relay.reopen()
        }
        if !plan.hangs { await relay.releaseHung() }
    }
}
