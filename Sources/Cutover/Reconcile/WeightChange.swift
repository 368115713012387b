/// An accepted action that moved green's weight, with the weight before and after: the
/// one list of switches every check reads ("the next change after t" lives here).
public struct WeightChange: Sendable, Equatable {
    /// Index of the action in the run's action log.
    public var actionIndex: Int
    public var action: RouterAction
    public var calledUs: UInt32
    public var returnedUs: UInt32
    public var from: Int
    public var to: Int

    /// Green's weight rose (sessions may move only blue→green).
    public var raisesGreen: Bool { to > from }
}

extension [WeightChange] {
    /// The first change called after `us`: until it, the weight set at `us` holds.
    func next(after us: UInt32) -> WeightChange? { first { $0.calledUs > us } }

    /// The call time of the next change after `us`, or `.max` when none follows.
    func nextCall(after us: UInt32) -> UInt32 { next(after: us)?.calledUs ?? .max }

    /// The last change that returned before `us`.
    func last(before us: UInt32) -> WeightChange? { last { $0.returnedUs < us } }
}
