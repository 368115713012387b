/// The run's time line as the timing checks (LatencyBudget, SwitchTail) read it: each action's
/// window (its call to a second after it returned), the actions a check judges, the windows of
/// the same length that hold no action (the null distribution, where the machine's own noise
/// shows), and the one ladder from a window's figure to its verdict.
struct ActionWindows {
    static let afterUs: UInt32 = 1_000_000
    /// Quiet windows keep this far from any action.
    static let marginUs: UInt32 = 500_000
    /// Fewer quiet windows than this cannot say what the machine does without an action.
    static let minimumQuietWindows = 10

    /// Accepted actions in the checked phases, with their windows; validate aside, and a
    /// crash (its toll is CrashRecovery's).
    let judged: [(action: ActionRecord, from: UInt32, to: UInt32)]
    /// Every action's window but validate's, judged or not: what quiet windows keep away from.
    private let all: [(from: UInt32, to: UInt32)]

    init(_ run: ReconciledRun, phases: [String]) {
        let windows = run.phases(named: phases)
        judged = run.actions.filter { action in
            action.accepted && action.action != .validate && action.action != .crash
                && (phases.isEmpty || windows.contains { action.calledUs >= $0.openedUs && action.calledUs < $0.closedUs })
        }.map { ($0, $0.calledUs, $0.returnedUs &+ Self.afterUs) }
        all = run.actions.filter { $0.action != .validate }.map { ($0.calledUs, $0.returnedUs &+ Self.afterUs) }
    }

    /// Whether `us` is within `margin` of an action's window.
    func nearAction(_ us: UInt32, margin: UInt32 = 0) -> Bool {
        all.contains { us &+ margin >= $0.from && us < $0.to &+ margin }
    }

    /// Windows of the judged actions' mean length, from `startUs` to `endUs`, that hold no
    /// action and keep `marginUs` from every one.
    func quietWindows(fromUs startUs: UInt32, toUs endUs: UInt32) -> [(from: UInt32, to: UInt32)] {
        let lengthUs = judged.isEmpty ? Self.afterUs : UInt32(judged.map { Double($0.to - $0.from) }.reduce(0, +) / Double(judged.count))
        var quiet: [(from: UInt32, to: UInt32)] = []
        var start = startUs
        while start &+ lengthUs <= endUs {
            let end = start &+ lengthUs
            if !nearAction(start, margin: Self.marginUs), !nearAction(end, margin: Self.marginUs), !all.contains(where: { $0.from >= start && $0.from < end }) {
                quiet.append((start, end))
            }
            start = end
        }
        return quiet
    }

    /// How a window in which the router added `addedUs` over the control path is judged: it
    /// passes within `boundUs`; over it, it fails only when the machine was quiet there, at
    /// least `minimumQuietWindows` quiet windows were measured, and none of them was even half
    /// as bad. Anything else is inconclusive, never a fail.
    enum Verdict: Equatable {
        case pass
        case fail
        case inconclusive(reason: String, short: String)
    }

    static func verdict(addedUs: Int, boundUs: UInt32, noise: MachineNoise, quietAdded: [Int], halfAsBad: String) -> (Verdict, asBad: Int) {
        let asBad = quietAdded.filter { $0 * 2 >= addedUs }.count
        if addedUs <= Int(boundUs) { return (.pass, asBad) }
        if noise.noisy { return (.inconclusive(reason: noise.reason ?? "the machine was slow", short: noise.reason ?? ""), asBad) }
        if quietAdded.count < minimumQuietWindows {
            return (
                .inconclusive(
                    reason: "only \(quietAdded.count) windows without an action to compare with", short: "only \(quietAdded.count) quiet windows"), asBad
            )
        }
        if asBad > 0 {
            return (
                .inconclusive(
                    reason: "\(asBad) of \(quietAdded.count) windows without an action \(halfAsBad)",
                    short: "\(asBad) of \(quietAdded.count) quiet windows at least half as bad"), asBad
            )
        }
        return (.fail, asBad)
    }
}

extension ActionWindows.Verdict {
    /// As a window's evidence says it.
    var text: String {
        switch self {
        case .pass: "pass"
        case .fail: "fail"
        case .inconclusive(let reason, _): "inconclusive: \(reason)"
        }
    }
}
