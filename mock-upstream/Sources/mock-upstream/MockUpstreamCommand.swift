import ArgumentParser
import ConfigInput
import Foundation
import Logging
import MockUpstream
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
        if Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level: expected one of trace|debug|info|notice|warning|error|critical, got '\(logLevel)'")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
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
        let mock = MockUpstream(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [AnnouncedMock(mock: mock)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Bad input (flags or config file) exits 2 with a message that says where and what.
    static func main() async {
        do {
            let command = try parse()
            try await command.run()
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("mock-upstream: \(error)\n".utf8))
            Foundation.exit(2)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data("mock-upstream: \(fullMessage(for: error))\n".utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Runs the mock and writes the ready line from inside the service group, after its
/// signal handlers are installed: whoever reads the line may send SIGTERM at once.
struct AnnouncedMock: Service {
    let mock: MockUpstream

    func run() async throws {
        try await mock.start()
        // Unbuffered: whoever started us waits for this line on a pipe.
        FileHandle.standardOutput.write(Data((mock.readyLine + "\n").utf8))
        try await mock.run()
    }
}
