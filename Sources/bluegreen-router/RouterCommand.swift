import ArgumentParser
import BlueGreenRouter
import CommandLineSupport
import ConfigInput
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `bluegreen-router`: the reference blue/green router for OpenAI-compatible relays.
@main
struct RouterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bluegreen-router",
        abstract: "A blue/green reverse proxy for OpenAI-compatible relays: canary, promote, rollback, health-gating.",
        discussion: """
            Prints one JSON line on stdout when ready, e.g.
              {"event":"ready","name":"router","url":"http://127.0.0.1:41234","admin":"http://127.0.0.1:41235"}
            SIGTERM stops accepting, lets in-flight requests and streams finish within --drain-timeout, and exits 0.
            """)

    @Option(help: "Blue environment's relay URL (http://host:port).")
    var blue: String

    @Option(help: "Green environment's relay URL (http://host:port).")
    var green: String

    @Option(help: "Proxy listen address, host:port (port 0 picks a free one; default 127.0.0.1:0).")
    var listen: String?

    @Option(
        name: .customLong("listen-fd"),
        help: """
            Accept on this inherited listening socket instead of binding --listen (0: stdin, as inetd and a supervisor hand it). \
            The supervisor keeps it open across restarts, so neither a restart nor a crash resets a connection waiting to be accepted.
            """)
    var listenFD: Int32?

    @Option(help: "Admin API listen address, host:port.")
    var admin = "127.0.0.1:0"

    @Option(name: .customLong("state-file"), help: "Where weights and the active environment persist across restarts.")
    var stateFile: String?

    @Option(name: .customLong("session-header"), help: "Header whose value keeps a session on one environment.")
    var sessionHeader = "X-Session-ID"

    @Option(name: .customLong("admin-token"), help: "Require 'Authorization: Bearer TOKEN' on the admin API.")
    var adminToken: String?

    @Option(
        name: .customLong("health-api-key"),
        help: "API key for health probes, for upstreams that require one (or BLUEGREEN_HEALTH_API_KEY); client requests carry their own.")
    var healthAPIKey: String?

    @Option(name: .customLong("health-models"), help: "Comma-separated models to probe in health checks (default: the first listed).")
    var healthModels: String?

    @Option(name: .customLong("drain-timeout"), help: "How long SIGTERM waits for in-flight work, e.g. 30s.")
    var drainTimeout = "30s"

    @Option(name: .customLong("health-interval"), help: "Background health check period, e.g. 5s; 0s turns it off.")
    var healthInterval = "5s"

    @Option(name: .customLong("event-loops"), help: "Event loop threads (default: one per core).")
    var eventLoops: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (logs go to stderr).")
    var logLevel = "info"

    func validate() throws {
        if let listenFD {
            guard listen == nil else { throw ValidationError("--listen-fd and --listen: give one (the socket is already bound)") }
            guard Self.isListeningSocket(listenFD) else {
                throw ValidationError("--listen-fd: descriptor \(listenFD) is not a listening TCP socket this process inherited")
            }
        }
        for (flag, value) in [("--listen", listen ?? Self.defaultListen), ("--admin", admin)] {
            guard let (host, _) = Self.hostPort(value) else {
                throw ValidationError("\(flag): expected host:port, e.g. 127.0.0.1:0, got '\(value)'")
            }
            if flag == "--admin", !Self.isLoopback(host) {
                throw ValidationError("--admin: the admin API binds to loopback only, got '\(host)'")
            }
        }
        for (flag, value) in [("--drain-timeout", drainTimeout), ("--health-interval", healthInterval)] where DurationText.parse(value) == nil {
            throw ValidationError("\(flag): expected a duration such as 30s or 500ms, got '\(value)'")
        }
        if sessionHeader.isEmpty || sessionHeader.contains(where: { $0 == ":" || $0 == " " }) {
            throw ValidationError("--session-header: expected a header name, got '\(sessionHeader)'")
        }
        if let eventLoops, !(1...256).contains(eventLoops) {
            throw ValidationError("--event-loops: expected 1...256, got \(eventLoops)")
        }
        if let adminToken, adminToken.isEmpty { throw ValidationError("--admin-token: expected a non-empty token") }
        if Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level: expected one of trace|debug|info|notice|warning|error|critical, got '\(logLevel)'")
        }
    }

    static func hostPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    static let defaultListen = "127.0.0.1:0"

    /// Whether `descriptor` is a socket in the listening state (SO_ACCEPTCONN).
    static func isListeningSocket(_ descriptor: Int32) -> Bool {
        var accepting: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        return descriptor >= 0 && getsockopt(descriptor, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &size) == 0 && accepting != 0
    }

    /// The IPv4 address an inherited socket is bound to, for the ready line's URL.
    static func boundHost(_ descriptor: Int32) -> String? {
        var address = sockaddr_in()
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let got = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &size) } }
        guard got == 0, address.sin_family == sa_family_t(AF_INET) else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        guard inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count)) != nil else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    func run() async throws {
        ServerExecutable.bootstrapLogging(level: Logger.Level(rawValue: logLevel) ?? .info)
        var configuration = RouterConfiguration(
            blue: try UpstreamTarget(url: blue, field: "--blue"), green: try UpstreamTarget(url: green, field: "--green"))
        (configuration.listenHost, configuration.listenPort) = Self.hostPort(listen ?? Self.defaultListen)!
        if let listenFD {
            configuration.listenDescriptor = listenFD
            configuration.listenHost = Self.boundHost(listenFD) ?? configuration.listenHost
        }
        (configuration.adminHost, configuration.adminPort) = Self.hostPort(admin)!
        configuration.stateFile = stateFile
        configuration.sessionHeader = sessionHeader
        configuration.adminToken = adminToken
        configuration.healthAPIKey = healthAPIKey ?? ProcessInfo.processInfo.environment["BLUEGREEN_HEALTH_API_KEY"]
        configuration.healthModels = healthModels.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } } ?? []
        configuration.drainTimeout = DurationText.parse(drainTimeout)!
        let interval = DurationText.parse(healthInterval)!
        configuration.healthInterval = interval == .zero ? nil : interval

        let logger = Logger(label: "bluegreen-router")
        let eventLoopGroup: any EventLoopGroup =
            eventLoops.map { MultiThreadedEventLoopGroup(numberOfThreads: $0) } ?? MultiThreadedEventLoopGroup.singleton
        let router = try BlueGreenRouter(configuration: configuration, group: eventLoopGroup, logger: logger)
        try await ServerExecutable.serve(router, logger: logger)
    }

    /// Bad input (flags, files) exits 2 with a message that says where and what.
    static func main() async {
        await CommandLineExit.run(Self.self, name: "bluegreen-router")
    }
}

extension BlueGreenRouter: AnnouncingServer {}
