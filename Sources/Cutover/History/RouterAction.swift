/// An action asked of the router under test: the one spelling the suite parser, the
/// timeline runner, the router drivers, `cutover deploy` and the checks all share.
package enum RouterAction: Sendable, Equatable, Hashable, Codable {
    /// Health-check both environments.
    case validate
    /// Move `percent` % of sessions to green (health-gated by the router).
    case canary(percent: Int)
    /// Move all traffic to green.
    case promote
    /// Move all traffic back to blue.
    case rollback
    /// Restart the router process; its weights must survive.
    case restart
    /// Kill the router's processes (SIGKILL to its process group) with requests in flight,
    /// then start it again on the same state, as a supervisor would: what it loses is
    /// bounded to the crash, and its weights must survive.
    case crash

    /// An action without its percentage: the one list of action names, as suites, profiles
    /// and `cutover deploy --phase` spell them.
    package enum Kind: String, CaseIterable, Sendable {
        case validate, canary, promote, rollback, restart, crash
    }

    /// Every action's name.
    package static let names = Kind.allCases.map(\.rawValue)

    /// The action called `name`; `percent` is required for `canary` and refused for the rest.
    package init?(name: String, percent: Int? = nil) {
        switch (Kind(rawValue: name), percent) {
        case (.canary?, let percent?): self = .canary(percent: percent)
        case (.validate?, nil): self = .validate
        case (.promote?, nil): self = .promote
        case (.rollback?, nil): self = .rollback
        case (.restart?, nil): self = .restart
        case (.crash?, nil): self = .crash
        default: return nil
        }
    }

    package var kind: Kind {
        switch self {
        case .validate: .validate
        case .canary: .canary
        case .promote: .promote
        case .rollback: .rollback
        case .restart: .restart
        case .crash: .crash
        }
    }

    package var name: String { kind.rawValue }

    /// For logs and evidence: `canary 10 %`, `promote`.
    package var label: String {
        if case .canary(let percent) = self { return "canary \(percent) %" }
        return name
    }

    /// Green's weight this action asks for; nil for actions that do not set weights.
    package var intendedGreenWeight: Int? {
        switch self {
        case .canary(let percent): percent
        case .promote: 100
        case .rollback: 0
        case .validate, .restart, .crash: nil
        }
    }

    /// A new router process takes over (restart, crash): the weights must survive it.
    package var replacesProcess: Bool { self == .restart || self == .crash }

    package var isCanary: Bool { if case .canary = self { true } else { false } }
}
