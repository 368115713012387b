import Prometheus

/// Renders the router's counters and gauges in the Prometheus text format. A fresh
/// registry per scrape keeps `RouterState` free of metrics plumbing on the hot path.
enum RouterMetrics {
    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "bluegreen", metricName: metric, unitName: unit, helpText: help)
    }

    static func render(state: RouterState, health: [Environment: EnvironmentHealth], openConnections: Int) -> [UInt8] {
        let registry = PrometheusCollectorRegistry()
        let counts = state.counts
        let requests = name("requests", "total", "Requests sent to an environment.")
        registry.makeCounter(descriptor: requests, labels: [("environment", "blue")]).increment(by: Int64(counts.blue))
        registry.makeCounter(descriptor: requests, labels: [("environment", "green")]).increment(by: Int64(counts.green))
        registry.makeCounter(descriptor: name("failovers", "total", "Requests retried on the other environment after a connect failure."))
            .increment(by: Int64(counts.failovers))
        registry.makeCounter(descriptor: name("upstream_errors", "total", "Requests that failed at the upstream (router answered 502 or cut the response)."))
            .increment(by: Int64(counts.upstreamErrors))
        registry.makeGauge(descriptor: name("green_weight", "percent", "Share of new requests sent to green.")).set(to: Double(state.greenWeight))
        registry.makeGauge(descriptor: name("in_flight", "requests", "Requests and streams not yet finished.")).set(to: Double(state.inFlight))
        registry.makeGauge(descriptor: name("open_client", "connections", "Open client connections.")).set(to: Double(openConnections))
        let active = state.deployment.active
        let activeName = name("active", "", "1 for the active environment.")
        let healthName = name("health", "status", "1 healthy, 0.5 degraded, 0 unhealthy, -1 unknown.")
        for environment in Environment.allCases {
            registry.makeGauge(descriptor: activeName, labels: [("environment", environment.rawValue)]).set(to: environment == active ? 1 : 0)
            let status = health[environment]?.status ?? .unknown
            registry.makeGauge(descriptor: healthName, labels: [("environment", environment.rawValue)])
                .set(to: status == .healthy ? 1 : status == .degraded ? 0.5 : status == .unhealthy ? 0 : -1)
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
