import ConfigInput
import HTTPServerCore
import NIOCore
import NIOHTTP1

/// The mock's admin API (`/_mock/…`): faults, ledger, stats and reset.
final class AdminAPI: HTTPResponder {
    private let control: FaultControl
    private let plan: FaultPlan
    private let ledger: MockLedger
    private let describe: @Sendable () -> [(String, JSON)]

    init(control: FaultControl, plan: FaultPlan, ledger: MockLedger, describe: @escaping @Sendable () -> [(String, JSON)]) {
        self.control = control
        self.plan = plan
        self.ledger = ledger
        self.describe = describe
    }

    func finished(ticket: UInt64, _ end: ExchangeEnd) {}

    func plan(for request: HTTPRequest, on eventLoop: any EventLoop) -> ResponsePlan {
        let path = request.path
        switch (request.method, path) {
        case (.GET, "/_mock/faults"):
            return ResponsePlan.json(.ok, faultsBody())
        case (.PUT, "/_mock/faults"), (.POST, "/_mock/faults"):
            let faults: [Fault]
            do {
                faults = try parseFaults(request, single: request.method == .POST)
            } catch {
                return Self.badRequest(error)
            }
            return ResponsePlan.deferred(on: eventLoop) { [control] in
                if request.method == .PUT {
                    try await control.replace(with: faults)
                    return ResponsePlan.json(.ok, self.faultsBody())
                }
                if let duplicate = try await control.add(faults) {
                    return ResponsePlan.jsonError(.conflict, "a fault with id '\(duplicate)' is already active", field: "id")
                }
                return ResponsePlan.json(.created, .object([("added", .array(faults.map(\.json))), ("faults", .array(self.plan.faults.map(\.json)))]))
            }
        case (.DELETE, "/_mock/faults"):
            return ResponsePlan.deferred(on: eventLoop) { [control] in
                try await control.clear()
                return ResponsePlan.json(.ok, self.faultsBody())
            }
        case (.DELETE, _) where path.hasPrefix("/_mock/faults/"):
            let id = String(path.dropFirst("/_mock/faults/".count))
            return ResponsePlan.deferred(on: eventLoop) { [control] in
                guard try await control.remove(id: id) else {
                    return ResponsePlan.jsonError(.notFound, "no active fault has id '\(id)'", field: "id")
                }
                return ResponsePlan.json(.ok, self.faultsBody())
            }
        case (.GET, "/_mock/ledger"):
            let query = request.query
            var since: UInt64 = 0
            var limit = 100_000
            if let text = query["since"] {
                guard let value = UInt64(text) else {
                    return ResponsePlan.jsonError(.badRequest, "query 'since': expected a sequence number, got '\(text)'", field: "since")
                }
                since = value
            }
            if let text = query["limit"] {
                guard let value = Int(text), value > 0 else {
                    return ResponsePlan.jsonError(.badRequest, "query 'limit': expected a positive integer, got '\(text)'", field: "limit")
                }
                limit = value
            }
            let entries = ledger.entries(since: since, limit: limit)
            return ResponsePlan.json(
                .ok,
                .object([
                    ("entries", LedgerEntry.json(entries)),
                    ("next_since", .int(Int(entries.last?.seq ?? since))),
                    ("dropped", .int(Int(ledger.dropped))),
                ]))
        case (.GET, "/_mock/stats"):
            guard case .object(let counters) = ledger.stats else { return ResponsePlan.json(.ok, ledger.stats) }
            return ResponsePlan.json(.ok, .object(describe() + counters))
        case (.POST, "/_mock/reset"):
            return ResponsePlan.deferred(on: eventLoop) { [control] in
                try await control.reset()
                return ResponsePlan.json(.ok, .object([("reset", .bool(true))]))
            }
        case (_, "/_mock/faults"), (_, "/_mock/ledger"), (_, "/_mock/stats"), (_, "/_mock/reset"):
            return ResponsePlan.jsonError(.methodNotAllowed, "\(request.method.rawValue) is not allowed on \(path)", field: nil)
        default:
            return ResponsePlan.jsonError(
                .notFound, "no admin route \(request.method.rawValue) \(path) (see /_mock/faults, /_mock/ledger, /_mock/stats, /_mock/reset)", field: nil)
        }
    }

    private func faultsBody() -> JSON {
        .object([("seed", .int(Int(truncatingIfNeeded: plan.seed))), ("faults", .array(plan.faults.map(\.json)))])
    }

    /// Accepts `{"faults":[…]}`, a bare list, or (for POST) one fault object.
    private func parseFaults(_ request: HTTPRequest, single: Bool) throws(ConfigError) -> [Fault] {
        let root = try ConfigNode.parseJSON(request.bodyBytes, source: "request body")
        switch root.value {
        case .array:
            return try Fault.parseList(root, existing: single ? plan.faults : [])
        case .object(let pairs) where pairs.contains(where: { $0.key == "faults" }):
            let fields = try root.object(allowed: ["faults"])
            return try Fault.parseList(fields["faults"]!, existing: single ? plan.faults : [])
        case .object where single:
            return try Fault.parseList(ConfigNode(value: .array([root]), path: "", source: root.source), existing: plan.faults)
        default:
            throw root.error(single ? "expected a fault object, a list of faults or {\"faults\": [...]}" : "expected {\"faults\": [...]} or a list of faults")
        }
    }

    static func badRequest(_ error: ConfigError) -> ResponsePlan {
        ResponsePlan.jsonError(.badRequest, error.description, field: error.field.isEmpty ? nil : error.field)
    }
}
