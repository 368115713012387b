import ConfigInput
import Foundation
import HTTPServerCore
import NIOCore
import NIOHTTP1

/// The router's admin API: status, validate, canary (health-gated), promote, rollback,
/// and Prometheus metrics. Every change is saved to the state file before it applies.
final class RouterAdminAPI: HTTPResponder {
    private let router: BlueGreenRouter

    init(router: BlueGreenRouter) {
        self.router = router
    }

    func finished(ticket: UInt64, _ end: ExchangeEnd) {}

    func plan(for request: HTTPRequest, on eventLoop: any EventLoop) -> ResponsePlan {
        if let token = router.configuration.adminToken, request.head.headers.first(name: "authorization") != "Bearer \(token)" {
            var plan = ResponsePlan.jsonError(.unauthorized, "missing or wrong bearer token (Authorization: Bearer TOKEN)", field: "authorization")
            if case .respond(var response) = plan {
                response.headers.add(name: "www-authenticate", value: "Bearer")
                plan = .respond(response)
            }
            return plan
        }
        let path = String(request.path)
        switch (request.method, path) {
        case (.GET, "/admin/status"):
            return ResponsePlan.deferred(on: eventLoop) { await ResponsePlan.json(.ok, self.router.statusJSON()) }
        case (.POST, "/admin/validate"):
            return ResponsePlan.deferred(on: eventLoop) {
                let health = await self.router.validate()
                let valid = health.values.allSatisfy { $0.status == .healthy }
                let body = JSON.object([
                    ("valid", .bool(valid)),
                    ("health", .object(Environment.allCases.map { ($0.rawValue, health[$0]!.json) })),
                ])
                return ResponsePlan.json(valid ? .ok : .conflict, body)
            }
        case (.POST, "/admin/canary"):
            let percent: Int
            do {
                percent = try Self.canaryPercent(request)
            } catch {
                return ResponsePlan.jsonError(.badRequest, error.description, field: error.field.isEmpty ? nil : error.field)
            }
            return ResponsePlan.deferred(on: eventLoop) {
                switch await self.router.canary(percent: percent) {
                case .success:
                    return ResponsePlan.json(.ok, await self.router.statusJSON())
                case .failure(let refusal):
                    return ResponsePlan.jsonError(.conflict, refusal.reason, field: nil, extra: [("health", refusal.health.json)])
                }
            }
        case (.POST, "/admin/promote"):
            return ResponsePlan.deferred(on: eventLoop) {
                try await self.router.promote()
                return ResponsePlan.json(.ok, await self.router.statusJSON())
            }
        case (.POST, "/admin/rollback"):
            return ResponsePlan.deferred(on: eventLoop) {
                try await self.router.rollback()
                return ResponsePlan.json(.ok, await self.router.statusJSON())
            }
        case (.GET, "/metrics"):
            return ResponsePlan.deferred(on: eventLoop) {
                let text = await self.router.metricsText()
                return .respond(
                    PlannedResponse(
                        status: .ok, headers: HTTPHeaders([("content-type", "text/plain; version=0.0.4; charset=utf-8")]),
                        body: .full(ByteBuffer(bytes: text))))
            }
        case (_, "/admin/status"), (_, "/admin/validate"), (_, "/admin/canary"), (_, "/admin/promote"), (_, "/admin/rollback"), (_, "/metrics"):
            return ResponsePlan.jsonError(.methodNotAllowed, "\(request.method.rawValue) is not allowed on \(path)", field: nil)
        default:
            return ResponsePlan.jsonError(
                .notFound,
                "no admin route \(request.method.rawValue) \(path) (see /admin/status, /admin/validate, /admin/canary, /admin/promote, /admin/rollback, /metrics)",
                field: nil)
        }
    }

    /// `{"percent": N}` with N an integer in 0...100.
    static func canaryPercent(_ request: HTTPRequest) throws(ConfigError) -> Int {
        let root = try ConfigNode.parseJSON(request.bodyBytes, source: "request body")
        let fields = try root.object(allowed: ["percent"])
        guard let percent = fields["percent"] else { throw root.error("missing 'percent' (an integer in 0...100)") }
        return try percent.int(in: 0...100)
    }

}
