import Synchronization

/// Tells the engine threads to stop early: a cancelled run ends its load at once instead
/// of at the plan's end, and then stops everything it started.
package final class StopSignal: Sendable {
    private let raised = Atomic<Bool>(false)

    package init() {}

    package func raise() { raised.store(true, ordering: .relaxed) }

    package var isRaised: Bool { raised.load(ordering: .relaxed) }
}
