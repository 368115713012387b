import Foundation
import Logging
import ServiceLifecycle

/// A server that can announce itself: it starts, then says where it listens.
package protocol AnnouncingServer: Service {
    /// Binds the listeners.
    func start() async throws
    /// The JSON ready line (`{"event":"ready",…}`).
    var readyLine: String { get }
}

/// Runs a server executable: logs to stderr at `level` (stdout carries only the ready
/// line), and writes the ready line from inside the service group, after its SIGTERM and
/// SIGINT handlers exist, so whoever reads the line may stop the server at once.
package enum ServerExecutable {
    package static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    package static func serve(_ server: some AnnouncingServer, logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: .init(services: [Announced(server: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    private struct Announced<Server: AnnouncingServer>: Service {
        let server: Server

        func run() async throws {
            try await server.start()
            // Unbuffered: whoever started us waits for this line on a pipe.
            FileHandle.standardOutput.write(Data((server.readyLine + "\n").utf8))
            try await server.run()
        }
    }
}
