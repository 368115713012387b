import ConfigInput
import Foundation
import HTTPServerCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The reference blue/green router: a reverse proxy for the relay API (`/v1/*`) with
/// weights, sticky sessions, health-gated canary, promote, rollback, failover before
/// send, streaming pass-through, draining and persisted state.
package final class BlueGreenRouter: Sendable {
    /// The router's version, reported in status and by `cutover certify`.
    package static let version = "0.1.0"

    package let configuration: RouterConfiguration
    package let state: RouterState
    let health: HealthChecker
    private let proxy: ProxyContext
    private let server: ProxyServer
    private let admin: HTTPListener
    private let adminForwarder: AdminForwarder
    private let stateFile: StateFile?
    private let logger: Logger
    /// Serialises deployment changes so the state file and the live weight agree.
    private let changeLock = NIOLock()
    private let runtime = NIOLockedValueBox(Runtime())

    private struct Runtime {
        var port = 0
        var adminPort = 0
        var healthTask: Task<Void, Never>?
        var stopped = false
    }

    /// Why a canary was refused.
    package struct CanaryRefusal: Error, Sendable {
        package var reason: String
        package var health: EnvironmentHealth
    }

    /// Loads the state file (if any) and prepares the listeners; nothing is bound yet.
    package init(configuration: RouterConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger? = nil)
        throws(ConfigError)
    {
        self.configuration = configuration
        let logger = logger ?? Logger(label: "bluegreen-router")
        self.logger = logger
        self.stateFile = configuration.stateFile.map { StateFile(path: $0) }
        let record = try stateFile?.load() ?? RouterState.DeploymentRecord()
        self.state = RouterState(record: record)
        self.health = HealthChecker(
            targets: configuration.targets, models: configuration.healthModels, apiKey: configuration.healthAPIKey,
            degradedAfterMs: configuration.degradedAfterMs)
        self.proxy = ProxyContext(
            state: state, targets: configuration.targets, sessionHeader: configuration.sessionHeader,
            connectTimeout: .nanoseconds(
                Int64(configuration.connectTimeout.components.seconds) * 1_000_000_000 + configuration.connectTimeout.components.attoseconds / 1_000_000_000),
            group: group)
        self.server = ProxyServer(host: configuration.listenHost, group: group, proxy: proxy, logger: logger)
        let forwarder = AdminForwarder()
        self.adminForwarder = forwarder
        self.admin = HTTPListener(host: configuration.adminHost, group: group, responder: forwarder, logger: logger)
        forwarder.target.withLockedValue { $0 = RouterAdminAPI(router: self) }
    }

    /// Binds the proxy and admin listeners and starts background health checks.
    package func start() async throws {
        let port: Int
        if let descriptor = configuration.listenDescriptor {
            port = server.adopt(descriptor)
        } else {
            port = try await server.bind(port: configuration.listenPort)
        }
        let adminPort = try await admin.bind(port: configuration.adminPort)
        var task: Task<Void, Never>?
        if let interval = configuration.healthInterval {
            let health = self.health
            task = Task { await health.runPeriodically(every: interval) }
        }
        runtime.withLockedValue {
            $0.port = port
            $0.adminPort = adminPort
            $0.healthTask = task
        }
        logger.debug("router ready", metadata: ["url": "\(url)", "admin": "\(adminURL)"])
    }

    package var port: Int { runtime.withLockedValue { $0.port } }
    package var adminPort: Int { runtime.withLockedValue { $0.adminPort } }
    package var url: String { "http://\(configuration.listenHost):\(port)" }
    package var adminURL: String { "http://\(configuration.adminHost):\(adminPort)" }

    /// The JSON line announcing a started router.
    package var readyLine: String {
        JSON.object([("event", .string("ready")), ("name", .string("router")), ("url", .string(url)), ("admin", .string(adminURL))]).text
    }

    // MARK: - Deployment

    /// Health-checks both environments now.
    package func validate() async -> [Environment: EnvironmentHealth] {
        await health.checkAll()
    }

    /// Moves `percent` % of new sessions to green, if green is healthy right now.
    package func canary(percent: Int) async -> Result<Void, CanaryRefusal> {
        let green = await health.check(.green)
        guard green.status == .healthy else {
            return .failure(CanaryRefusal(reason: "green is \(green.status.rawValue): \(green.detail); the canary was not started", health: green))
        }
        do {
            try change(greenWeight: percent, active: percent == 100 ? .green : .blue)
            return .success(())
        } catch {
            return .failure(CanaryRefusal(reason: "could not save the state file: \(error)", health: green))
        }
    }

    /// All traffic to green; blue stays as standby.
    package func promote() async throws { try change(greenWeight: 100, active: .green) }

    /// All traffic to blue, for every request that starts after this returns.
    package func rollback() async throws { try change(greenWeight: 0, active: .blue) }

    private func change(greenWeight: Int, active: Environment) throws {
        try changeLock.withLock {
            let next = state.proposed(greenWeight: greenWeight, active: active)
            try stateFile?.save(next)
            state.apply(next)
        }
        logger.info("traffic changed", metadata: ["green_weight": "\(greenWeight)", "active": "\(active.rawValue)"])
    }

    // MARK: - Reporting

    func statusJSON() async -> JSON {
        let record = state.deployment
        let counts = state.counts
        let health = await self.health.latest
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let served = counts.blue + counts.green
        return .object([
            ("active", .string(record.active.rawValue)),
            ("weights", .object([("blue", .int(100 - record.greenWeight)), ("green", .int(record.greenWeight))])),
            ("canary_percentage", .int(record.greenWeight > 0 && record.greenWeight < 100 ? record.greenWeight : 0)),
            (
                "counters",
                .object([
                    ("total", .int(counts.total)), ("blue", .int(counts.blue)), ("green", .int(counts.green)),
                    ("failovers", .int(counts.failovers)), ("upstream_errors", .int(counts.upstreamErrors)),
                ])
            ),
            ("green_ratio", .double(served == 0 ? 0 : (Double(counts.green) / Double(served) * 10_000).rounded() / 10_000)),
            ("in_flight", .int(state.inFlight)),
            ("deployment_started", record.deploymentStarted.map { .string(formatter.string(from: $0)) } ?? .null),
            ("last_switch", record.lastSwitch.map { .string(formatter.string(from: $0)) } ?? .null),
            ("health", .object(Environment.allCases.map { ($0.rawValue, (health[$0] ?? .unchecked).json) })),
            ("upstreams", .object([("blue", .string(configuration.blue.url)), ("green", .string(configuration.green.url))])),
            ("version", .string(Self.version)),
        ])
    }

    func metricsText() async -> [UInt8] {
        RouterMetrics.render(state: state, health: await health.latest, openConnections: server.openConnections)
    }

    // MARK: - Stopping

    /// Stops accepting, lets in-flight requests and streams finish within the drain
    /// timeout, then closes everything. Returns how many requests the timeout cut.
    @discardableResult
    package func drain(timeout: Duration? = nil) async -> Int {
        let task = runtime.withLockedValue { runtime -> Task<Void, Never>? in
            defer { runtime.healthTask = nil }
            return runtime.healthTask
        }
        task?.cancel()
        let cut = await server.drain(timeout: timeout ?? configuration.drainTimeout)
        await admin.shutdown()
        adminForwarder.target.withLockedValue { $0 = nil }  // break the router <-> admin API cycle
        if cut > 0 { logger.warning("drain timeout cut \(cut) requests") }
        return cut
    }
}

extension BlueGreenRouter: Service {
    /// Serves until graceful shutdown (SIGTERM), then drains.
    package func run() async throws {
        try? await gracefulShutdown()
        await drain()
    }
}

/// Lets the admin listener exist before the router it calls into is fully initialised.
private final class AdminForwarder: HTTPResponder {
    let target = NIOLockedValueBox<RouterAdminAPI?>(nil)

    func plan(for request: HTTPRequest, on eventLoop: any EventLoop) -> ResponsePlan {
        guard let api = target.withLockedValue({ $0 }) else { return .close(ticket: nil) }
        return api.plan(for: request, on: eventLoop)
    }

    func finished(ticket: UInt64, _ end: ExchangeEnd) {}
}
