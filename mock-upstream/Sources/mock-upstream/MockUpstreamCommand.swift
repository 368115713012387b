import ArgumentParser
import CommandLineSupport
import ConfigInput
import Foundation
import Logging
import MockUpstream
import NIOPosix
import ServiceLifecycle

/// `mock-upstream`: one mock relay environment on loopback, announced by a JSON ready line.
@main
struct MockUpstreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-upstream",
        abstract: "A mock OpenAI-compatible relay with fault injection, for blue/green router tests.",
        discussion: """
            Prints one JSON line on stdout when ready, e.g.
              {"event":"ready","name":"blue","url":"http://127.0.0.1:41234","admin":"http://127.0.0.1:41235"}
            Faults are changed at run time through the admin API (/_mock/faults). SIGTERM or SIGINT stops it.
            """)

    @Option(help: "Environment name, sent as X-Upstream-Env.")
    var name: String?

    @Option(help: "Loopback address to bind.")
    var host: String?

    @Option(help: "Relay API port (0 picks a free one).")
    var port: Int?

    @Option(name: .customLong("admin-port"), help: "Admin API port (0 picks a free one).")
    var adminPort: Int?

    @Option(help: "YAML or JSON config file (name, host, port, admin_port, seed, models, api_key, faults).")
    var config: String?

    @Option(help: "Seed for fault decisions and completion text.")
    var seed: UInt64?

    @Option(help: "Comma-separated model ids served by /v1/models.")
    var models: String?

    @Option(name: .customLong("api-key"), help: "Require 'Authorization: Bearer KEY' on the relay API.")
    var apiKey: String?

    @Option(name: .customLong("event-loops"), help: "Event loop threads (default: one per core).")
    var eventLoops: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (logs go to stderr).")
    var logLevel: String = "info"

    func validate() throws {
        if let host, !MockConfiguration.isLoopback(host) {
            throw ValidationError("--host: expected a loopback address (127.0.0.0/8, localhost or ::1), got '\(host)'")
        }
        for (flag, value) in [("--port", port), ("--admin-port", adminPort)] {
            if let value, !(0...65535).contains(value) {
                throw ValidationError("\(flag): expected a port in 0...65535, got \(value)")
            }
        }
        if let models, models.split(separator: ",").filter({ !$0.trimmingCharacters(in: .whitespaces).isEmpty }).isEmpty {
            throw ValidationError("--models: expected a comma-separated list of model ids, got '\(models)'")
        }
        if let name, name.isEmpty { throw ValidationError("--name: expected a non-empty name") }
        if let eventLoops, !(1...64).contains(eventLoops) { throw ValidationError("--event-loops: expected 1...64, got \(eventLoops)") }
        if Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level: expected one of trace|debug|info|notice|warning|error|critical, got '\(logLevel)'")
        }
    }

    func run() async throws {
        ServerExecutable.bootstrapLogging(level: Logger.Level(rawValue: logLevel) ?? .info)
        var configuration = try config.map { try MockConfiguration.load(file: $0, name: name ?? "mock") } ?? MockConfiguration(name: "mock")
        if let name { configuration.name = name }
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let adminPort { configuration.adminPort = adminPort }
        if let seed { configuration.seed = seed }
        if let models {
            configuration.models = models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let apiKey { configuration.apiKey = apiKey }

        let logger = Logger(label: "mock-upstream")
        let group = eventLoops.map { MultiThreadedEventLoopGroup(numberOfThreads: $0) } ?? MultiThreadedEventLoopGroup.singleton
        let mock = MockUpstream(configuration: configuration, group: group, logger: logger)
        try await ServerExecutable.serve(mock, logger: logger)
    }

    /// Bad input (flags, files) exits 2 with a message that says where and what.
    static func main() async {
        await CommandLineExit.run(Self.self, name: "mock-upstream")
    }
}

extension MockUpstream: AnnouncingServer {}
