import CurlHTTP
import Foundation
import HTTPServerCore

/// Checks each environment the way the relay is used: connectivity (`GET /v1/models`)
/// and model availability (a 5-token chat completion per probed model). Runs on demand
/// (validate, canary gate) and periodically.
package actor HealthChecker {
    private let targets: [Environment: UpstreamTarget]
    /// Models to probe; when empty, the first model the environment lists.
    private let models: [String]
    /// The upstreams' API key, when they require one.
    private let apiKey: String?
    /// Slower than this and a working environment is `degraded`.
    private let degradedAfterMs: Double
    private let timeoutMs: Int
    private let clients: [Environment: CurlClient]
    private var checks = 0
    package private(set) var latest: [Environment: EnvironmentHealth] = [.blue: .unchecked, .green: .unchecked]

    package init(targets: [Environment: UpstreamTarget], models: [String], apiKey: String? = nil, degradedAfterMs: Double = 1_000, timeoutMs: Int = 3_000) {
        self.targets = targets
        self.models = models
        self.apiKey = apiKey
        self.degradedAfterMs = degradedAfterMs
        self.timeoutMs = timeoutMs
        self.clients = [.blue: CurlClient(), .green: CurlClient()]
    }

    /// Checks both environments at once.
    package func checkAll() async -> [Environment: EnvironmentHealth] {
        async let blue = check(.blue)
        async let green = check(.green)
        _ = await (blue, green)
        return latest
    }

    /// Checks one environment now and records the result.
    @discardableResult
    package func check(_ environment: Environment) async -> EnvironmentHealth {
        checks += 1
        let result = await probe(environment, number: checks)
        latest[environment] = result
        return result
    }

    private func probe(_ environment: Environment, number: Int) async -> EnvironmentHealth {
        let base = targets[environment]!.url
        let client = clients[environment]!
        var headers = [("X-Request-ID", "health-\(environment.rawValue)-\(number)"), ("User-Agent", "bluegreen-router-health")]
        if let apiKey { headers.append(("Authorization", "Bearer \(apiKey)")) }
        let now = Date()

        let list = await client.get(base + "/v1/models", headers: headers, timeoutMs: timeoutMs)
        var slowest = Self.ms(list.total)
        if let error = list.error {
            return EnvironmentHealth(status: .unhealthy, latencyMs: slowest, checkedAt: now, detail: "GET /v1/models failed: \(error)")
        }
        guard list.status == 200 else {
            return EnvironmentHealth(status: .unhealthy, latencyMs: slowest, checkedAt: now, detail: "GET /v1/models answered \(list.status)")
        }
        let listed = Self.modelIDs(list.body)
        guard let listed else {
            return EnvironmentHealth(status: .unhealthy, latencyMs: slowest, checkedAt: now, detail: "GET /v1/models did not return a model list")
        }
        let probes = models.isEmpty ? Array(listed.prefix(1)) : models
        guard !probes.isEmpty else {
            return EnvironmentHealth(status: .unhealthy, latencyMs: slowest, checkedAt: now, detail: "no models listed")
        }
        var failures: [String] = []
        for model in probes {
            let body = #"{"model":\#(JSON.quoted(model)),"messages":[{"role":"user","content":"health check"}],"max_tokens":5}"#
            let response = await client.post(base + "/v1/chat/completions", json: body, headers: headers, timeoutMs: timeoutMs)
            slowest = max(slowest, Self.ms(response.total))
            if let error = response.error {
                failures.append("\(model): \(error.errorClass.rawValue)")
            } else if response.status != 200 {
                failures.append("\(model): answered \(response.status)")
            }
        }
        if failures.count == probes.count {
            return EnvironmentHealth(
                status: .unhealthy, latencyMs: slowest, checkedAt: now, detail: "no probed model answers (\(failures.joined(separator: "; ")))")
        }
        if !failures.isEmpty {
            return EnvironmentHealth(status: .degraded, latencyMs: slowest, checkedAt: now, detail: "some models fail (\(failures.joined(separator: "; ")))")
        }
        if slowest > degradedAfterMs {
            return EnvironmentHealth(status: .degraded, latencyMs: slowest, checkedAt: now, detail: "slow: \(Int(slowest)) ms > \(Int(degradedAfterMs)) ms")
        }
        return EnvironmentHealth(status: .healthy, latencyMs: slowest, checkedAt: now, detail: "models listed and \(probes.joined(separator: ", ")) answering")
    }

    /// Checks both environments every `interval` until the task is cancelled.
    package func runPeriodically(every interval: Duration) async {
        while !Task.isCancelled {
            _ = await checkAll()
            try? await Task.sleep(for: interval)
        }
    }

    private static func ms(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    private static func modelIDs(_ body: [UInt8]) -> [String]? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
            let data = object["data"] as? [[String: Any]]
        else { return nil }
        return data.compactMap { $0["id"] as? String }
    }
}
