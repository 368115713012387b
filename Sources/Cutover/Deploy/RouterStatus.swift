import Foundation

/// A router's `GET /admin/status`, as `cutover deploy` reads and prints it.
package struct RouterStatus: Sendable, Decodable, Equatable {
    package struct Weights: Sendable, Decodable, Equatable {
        package var blue: Int
        package var green: Int
    }

    package struct Counters: Sendable, Decodable, Equatable {
        package var total: Int
        package var blue: Int
        package var green: Int
        package var failovers: Int?
        package var upstreamErrors: Int?

        enum CodingKeys: String, CodingKey {
            case total, blue, green, failovers
            case upstreamErrors = "upstream_errors"
        }
    }

    package struct Health: Sendable, Decodable, Equatable {
        package var status: String
        package var latencyMs: Double?
        package var detail: String?

        enum CodingKeys: String, CodingKey {
            case status, detail
            case latencyMs = "latency_ms"
        }
    }

    package var active: String
    package var weights: Weights
    package var canaryPercentage: Int
    package var counters: Counters
    package var greenRatio: Double
    package var deploymentStarted: String?
    package var lastSwitch: String?
    package var health: [String: Health]?
    package var version: String?

    enum CodingKeys: String, CodingKey {
        case active, weights, counters, health, version
        case canaryPercentage = "canary_percentage"
        case greenRatio = "green_ratio"
        case deploymentStarted = "deployment_started"
        case lastSwitch = "last_switch"
    }

    /// The status block `cutover deploy` prints.
    package var block: String {
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
