import Foundation
import NIOConcurrencyHelpers
import Synchronization

/// The router's live state: green's weight (read on every request, so an atomic),
/// request counters, and the deployment record that `/admin/status` reports and the
/// state file persists.
package final class RouterState: Sendable {
    private let greenWeightValue: Synchronization.Atomic<Int>
    private let counters = Counters()
    private let record: NIOLockedValueBox<DeploymentRecord>

    /// What the state file holds, and what a restart resumes.
    package struct DeploymentRecord: Sendable, Equatable, Codable {
        package var greenWeight: Int
        /// The environment that serves production: blue until a promote, blue again after a rollback.
        package var active: Environment
        package var deploymentStarted: Date?
        package var lastSwitch: Date?

        package init(greenWeight: Int = 0, active: Environment = .blue, deploymentStarted: Date? = nil, lastSwitch: Date? = nil) {
            self.greenWeight = greenWeight
            self.active = active
            self.deploymentStarted = deploymentStarted
            self.lastSwitch = lastSwitch
        }

        enum CodingKeys: String, CodingKey {
            case greenWeight = "green_weight"
            case active
            case deploymentStarted = "deployment_started"
            case lastSwitch = "last_switch"
        }
    }

    package init(record: DeploymentRecord = DeploymentRecord()) {
        self.greenWeightValue = Atomic(record.greenWeight)
        self.record = NIOLockedValueBox(record)
    }

    /// Green's share in percent; blue's is 100 minus this.
    package var greenWeight: Int { greenWeightValue.load(ordering: .acquiring) }

    package var deployment: DeploymentRecord { record.withLockedValue { $0 } }

    /// The record that setting green's weight (and the active environment) would give.
    package func proposed(greenWeight weight: Int, active: Environment, now: Date = Date()) -> DeploymentRecord {
        var next = deployment
        if next.greenWeight == 0, weight > 0 { next.deploymentStarted = now }
        if next.greenWeight != weight || next.active != active { next.lastSwitch = now }
        next.greenWeight = weight
        next.active = active
        return next
    }

    /// Applies a record; every request that starts after this returns sees its weight.
    package func apply(_ next: DeploymentRecord) {
        record.withLockedValue { record in
            record = next
            greenWeightValue.store(next.greenWeight, ordering: .releasing)
        }
    }

    /// Picks the environment for one request.
    package func select(sessionKey: String?) -> Environment { select(sessionKeyBytes: sessionKey?.utf8) }

    /// Picks the environment for one request whose session key is given as its bytes.
    func select(sessionKeyBytes key: (some Collection<UInt8>)?) -> Environment {
        let weight = greenWeight
        if weight <= 0 { return .blue }
        if weight >= 100 { return .green }
        if let key, !key.isEmpty {
            return TrafficSplit.environment(bucket: TrafficSplit.bucket(ofBytes: key), greenWeight: weight)
        }
        return TrafficSplit.environment(random: UInt64.random(in: 0..<UInt64.max), greenWeight: weight)
    }

    // MARK: - Counters

    final class Counters: Sendable {
        let total = Synchronization.Atomic<Int>(0)
        let blue = Synchronization.Atomic<Int>(0)
        let green = Synchronization.Atomic<Int>(0)
        let failovers = Synchronization.Atomic<Int>(0)
        let upstreamErrors = Synchronization.Atomic<Int>(0)
        let inFlight = Synchronization.Atomic<Int>(0)
    }

    /// A request was sent to `environment`.
    func countServed(by environment: Environment) {
        counters.total.add(1, ordering: .relaxed)
        if environment == .blue {
            counters.blue.add(1, ordering: .relaxed)
        } else {
            counters.green.add(1, ordering: .relaxed)
        }
    }

    func countFailover() { counters.failovers.add(1, ordering: .relaxed) }
    func countUpstreamError() { counters.upstreamErrors.add(1, ordering: .relaxed) }
    func requestStarted() { counters.inFlight.add(1, ordering: .relaxed) }
    func requestEnded() { counters.inFlight.subtract(1, ordering: .relaxed) }

    /// Requests (or streams) not yet finished.
    package var inFlight: Int { counters.inFlight.load(ordering: .relaxed) }

    /// Counter values, for status and metrics.
    package var counts: (total: Int, blue: Int, green: Int, failovers: Int, upstreamErrors: Int) {
        (
            counters.total.load(ordering: .relaxed), counters.blue.load(ordering: .relaxed), counters.green.load(ordering: .relaxed),
            counters.failovers.load(ordering: .relaxed), counters.upstreamErrors.load(ordering: .relaxed)
        )
    }
}
