import Foundation
import HTTPServerCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The coordinator's HTTP API for its shards: `GET /run` answers the run's announcement
/// with the coordinator's clock (503 until the router is up and the start is set).
package final class CoordinatorAPI: Sendable {
    private let responder = Responder()
    private let listener: HTTPListener

    package init(host: String) {
        listener = HTTPListener(host: host, group: MultiThreadedEventLoopGroup.singleton, responder: responder, logger: Logger(label: "cutover.coordinator"))
    }

    /// Binds (port 0 picks one) and returns the port.
    package func start(port: Int) async throws -> Int { try await listener.bind(port: port) }

    /// From now on, shards get this announcement.
    package func announce(_ value: RunAnnouncement) { responder.announcement.withLock { $0 = value } }

    package func shutdown() async { await listener.shutdown() }

    /// Answers `GET /run`.
    private final class Responder: HTTPResponder {
        let announcement = Mutex<RunAnnouncement?>(nil)

        func plan(for request: HTTPRequest, on eventLoop: any EventLoop) -> ResponsePlan {
            guard request.method == .GET, request.path == "/run" else {
                return .jsonError(.notFound, "the coordinator answers GET /run only", field: "path")
            }
            guard var value = announcement.withLock({ $0 }) else { return .jsonError(.serviceUnavailable, "the run is not ready yet", field: nil) }
            value.nowMs = Date().timeIntervalSince1970 * 1_000
            return .respond(
                PlannedResponse(status: .ok, headers: HTTPHeaders([("content-type", "application/json")]), body: .full(ByteBuffer(string: value.json))))
        }

        func finished(ticket: UInt64, _ end: ExchangeEnd) {}
    }
}
