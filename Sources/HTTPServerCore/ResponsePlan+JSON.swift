import NIOCore
import NIOHTTP1

extension ResponsePlan {
    /// A JSON response.
    package static func json(_ status: HTTPResponseStatus, _ body: JSON) -> ResponsePlan {
        .respond(PlannedResponse(status: status, headers: HTTPHeaders([("content-type", "application/json")]), body: .full(ByteBuffer(string: body.text))))
    }

    /// The admin APIs' error shape: `{"error":{"message","field","status", …}}`.
    package static func jsonError(_ status: HTTPResponseStatus, _ message: String, field: String?, extra: [(String, JSON)] = []) -> ResponsePlan {
        json(status, .object([("error", .object([("message", .string(message)), ("field", .optional(field)), ("status", .int(Int(status.code)))] + extra))]))
    }

    /// A response that needs async work first (health checks, listener changes); a thrown
    /// error becomes a 500 that says the change was not applied.
    package static func deferred(on eventLoop: any EventLoop, _ work: @escaping @Sendable () async throws -> ResponsePlan) -> ResponsePlan {
        let promise = eventLoop.makePromise(of: ResponsePlan.self)
        promise.completeWithTask {
            do {
                return try await work()
            } catch {
                return jsonError(.internalServerError, "the change was not applied: \(error)", field: nil)
            }
        }
        return .deferred(promise.futureResult)
    }
}
