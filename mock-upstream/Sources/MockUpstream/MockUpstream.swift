import ConfigInput
import HTTPServerCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A mock OpenAI-compatible relay standing in for one environment (one "color"):
/// the relay API on one port, the admin API on another, faults on command, and a
/// ledger of every request it received.
public final class MockUpstream: Sendable {
    /// The mock's own version, reported in `system_fingerprint`.
    public static let version = "0.1.0"

    /// What it was started with.
    public let configuration: MockConfiguration
    /// The active faults; change them through the methods below so listeners follow.
    package let faults: FaultPlan
    /// Every request it received, in arrival order: the evidence checks read.
    public let ledger: MockLedger
    /// Unique per running instance; sent as `X-Upstream-Instance`.
    package let instanceID: String

    private let relay: HTTPListener
    private let admin: HTTPListener
    private let group: any EventLoopGroup
    /// How late the mock's event loops run, from its start to its shutdown.
    private let loopLag = LoopLag()
    private let control: FaultControl
    private let logger: Logger
    private let started = NIOLockedValueBox(false)

    /// A mock with this configuration, on SwiftNIO's shared event loops; ``start()`` binds it.
    public convenience init(configuration: MockConfiguration) {
        self.init(configuration: configuration, group: MultiThreadedEventLoopGroup.singleton)
    }

    package init(configuration: MockConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger? = nil) {
        self.configuration = configuration
        self.group = group
        self.logger = logger ?? Logger(label: "mock-upstream.\(configuration.name)")
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        self.instanceID = "\(configuration.name)-\(suffix)"
        self.faults = FaultPlan(seed: configuration.seed, faults: configuration.faults)
        self.ledger = MockLedger(capacity: configuration.ledgerCapacity)
        let relayAPI = RelayAPI(configuration: configuration, faults: faults, ledger: ledger, instanceID: instanceID)
        self.relay = HTTPListener(host: configuration.host, group: group, responder: relayAPI, logger: self.logger)
        self.control = FaultControl(plan: faults, ledger: ledger, relay: relay)
        let relay = self.relay
        let name = configuration.name
        let instance = instanceID
        let faults = self.faults
        let loopLag = self.loopLag
        let adminAPI = AdminAPI(control: control, plan: faults, ledger: ledger) {
            [
                ("name", .string(name)), ("instance", .string(instance)), ("listening", .bool(relay.isListening)),
                ("open_connections", .int(relay.openConnections)), ("active_faults", .int(faults.faults.count)),
                // How late paced stream frames left against their due times, and how late the
                // event loops ran a timer: the mock's own evidence that it kept up.
                ("pacing", relay.pacing.json()), ("loop_lag", loopLag.stats.json(count: "ticks")),
                ("accept_failures", .int(relay.acceptFailures.count)),
            ]
        }
        self.admin = HTTPListener(host: configuration.host, group: group, responder: adminAPI, logger: self.logger)
    }

    /// Binds both listeners (port 0 picks free ones) and applies the initial faults.
    public func start() async throws {
        guard
            started.withLockedValue({
                let was = $0; $0 = true; return !was
            })
        else { return }
        _ = try await relay.bind(port: configuration.port)
        _ = try await admin.bind(port: configuration.adminPort)
        try await control.sync()
        loopLag.start(on: group)
        logger.debug("mock upstream \(configuration.name) ready", metadata: ["url": "\(url)", "admin": "\(adminURL)"])
    }

    /// Base URL of the relay API (without `/v1`).
    public var url: String { "http://\(Self.hostForURL(configuration.host)):\(relay.port)" }
    /// Base URL of the admin API.
    public var adminURL: String { "http://\(Self.hostForURL(configuration.host)):\(admin.port)" }
    /// The relay API's port.
    public var port: Int { relay.port }
    /// The admin API's port.
    public var adminPort: Int { admin.port }

    /// The JSON line announcing a started server.
    package var readyLine: String {
        JSON.object([("event", .string("ready")), ("name", .string(configuration.name)), ("url", .string(url)), ("admin", .string(adminURL))]).text
    }

    private static func hostForURL(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    // MARK: - Faults

    /// Replaces the active faults; returns once listeners reflect the change.
    public func setFaults(_ faults: [Fault]) async throws { try await control.replace(with: faults) }

    /// Adds faults; throws if an id is already active.
    public func addFaults(_ faults: [Fault]) async throws {
        if let duplicate = try await control.add(faults) {
            throw ConfigError(source: "faults", line: nil, field: "id", message: "a fault with id '\(duplicate)' is already active")
        }
    }

    /// Removes one fault; false if none had that id.
    @discardableResult
    public func removeFault(id: String) async throws -> Bool { try await control.remove(id: id) }

    /// Removes every active fault.
    public func clearFaults() async throws { try await control.clear() }

    /// No faults, draws replay from the start, empty ledger.
    public func reset() async throws { try await control.reset() }

    /// Stops both listeners and closes every connection.
    public func shutdown() async {
        loopLag.stop()
        await relay.shutdown()
        await admin.shutdown()
    }

    /// Whether the mock kept up so far: its loops' lag, its frames' lateness, its accepts.
    package var keepingUp: MockKeepingUp {
        MockKeepingUp(
            name: configuration.name, loopLagP99Ms: loopLag.stats.lateMs(atFraction: 0.99), loopLagMaxMs: loopLag.stats.maxLateMs,
            pacingLateP99Ms: relay.pacing.lateMs(atFraction: 0.99), acceptFailures: relay.acceptFailures.count, lastAcceptFailure: relay.acceptFailures.last)
    }
}

extension MockUpstream: Service {
    /// Starts (if needed), serves until graceful shutdown or cancellation, then closes.
    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await shutdown()
    }
}
