import Foundation

/// A router's `GET /admin/status`, as `cutover deploy` reads and prints it.
public struct RouterStatus: Sendable, Decodable, Equatable {
    public struct Weights: Sendable, Decodable, Equatable {
        public var blue: Int
        public var green: Int
    }

    public struct Counters: Sendable, Decodable, Equatable {
        public var total: Int
        public var blue: Int
        public var green: Int
        public var failovers: Int?
        public var upstreamErrors: Int?

        enum CodingKeys: String, CodingKey {
            case total, blue, green, failovers
            case upstreamErrors = "upstream_errors"
        }
    }

    public struct Health: Sendable, Decodable, Equatable {
        public var status: String
        public var latencyMs: Double?
        public var detail: String?

        enum CodingKeys: String, CodingKey {
            case status, detail
            case latencyMs = "latency_ms"
        }
    }

    public var active: String
    public var weights: Weights
    public var canaryPercentage: Int
    public var counters: Counters
    public var greenRatio: Double
    public var deploymentStarted: String?
    public var lastSwitch: String?
    public var health: [String: Health]?
    public var version: String?

    enum CodingKeys: String, CodingKey {
        case active, weights, counters, health, version
        case canaryPercentage = "canary_percentage"
        case greenRatio = "green_ratio"
        case deploymentStarted = "deployment_started"
        case lastSwitch = "last_switch"
    }

    /// The status block `cutover deploy` prints.
    public var block: String {
        func describe(_ name: String) -> String {
            guard let h = self.health?[name] else { return "\(name) unknown" }
            let latency = h.latencyMs.map { " (\($0) ms)" } ?? ""
            return "\(name) \(h.status)\(latency)"
        }
        let rows: [(String, String)] = [
            ("Active environment", active),
            ("Weights", "blue \(weights.blue) %, green \(weights.green) %"),
            ("Canary", canaryPercentage > 0 ? "\(canaryPercentage) % to green" : "none"),
            ("Requests", "total \(counters.total), blue \(counters.blue), green \(counters.green)"),
            ("Green share", String(format: "%.1f %% of requests served", greenRatio * 100)),
            ("Failovers", "\(counters.failovers ?? 0) (upstream errors \(counters.upstreamErrors ?? 0))"),
            ("Deployment started", deploymentStarted ?? "never"),
            ("Last switch", lastSwitch ?? "never"),
            ("Health", "\(describe("blue")), \(describe("green"))"),
        ]
        return rows.map { $0.0.padding(toLength: 20, withPad: " ", startingAt: 0) + $0.1 }.joined(separator: "\n")
    }
}
