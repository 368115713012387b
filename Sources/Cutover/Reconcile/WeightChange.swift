/// An accepted action that moved green's weight, with the weight before and after: the
/// one list of switches every check reads ("the next change after t" lives here).
package struct WeightChange: Sendable, Equatable {
    /// Index of the action in the run's action log.
    package var actionIndex: Int
    package var action: RouterAction
    package var calledUs: UInt32
    package var returnedUs: UInt32
    package var from: Int
    package var to: Int

    /// Green's weight rose (sessions may move only blue→green).
    package var raisesGreen: Bool { to > from }
}

extension [WeightChange] {
    /// The first change called after `us`: until it, the weight set at `us` holds.
    func next(after us: UInt32) -> WeightChange? { first { $0.calledUs > us } }

    /// The call time of the next change after `us`, or `.max` when none follows.
    func nextCall(after us: UInt32) -> UInt32 { next(after: us)?.calledUs ?? .max }

    /// The last change that returned before `us`.
    func last(before us: UInt32) -> WeightChange? { last { $0.returnedUs < us } }
}
