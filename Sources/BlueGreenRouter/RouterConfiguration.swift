/// How one router runs: its two upstreams, where it listens, and its policies.
package struct RouterConfiguration: Sendable {
    package var blue: UpstreamTarget
    package var green: UpstreamTarget
    package var listenHost = "127.0.0.1"
    /// Proxy port; 0 picks a free one.
    package var listenPort = 0
    /// A listening socket the process inherited (`--listen-fd`), accepted on instead of
    /// binding `listenHost:listenPort`: its supervisor keeps it open across restarts.
    package var listenDescriptor: Int32?
    package var adminHost = "127.0.0.1"
    /// Admin port; 0 picks a free one.
    package var adminPort = 0
    /// Where weights and the active environment persist; nil keeps them in memory only.
    package var stateFile: String?
    /// The header whose value keeps a session on one environment.
    package var sessionHeader = "X-Session-ID"
    /// When set, the admin API requires `Authorization: Bearer <token>`.
    package var adminToken: String?
    /// Sent as `Authorization: Bearer <key>` on health probes, for upstreams that require
    /// a key (client requests carry their own, which the proxy passes through).
    package var healthAPIKey: String?
    /// Models probed by health checks; empty probes the first listed model.
    package var healthModels: [String] = []
    /// How long SIGTERM waits for in-flight requests and streams.
    package var drainTimeout: Duration = .seconds(30)
    /// Period of background health checks; nil for on-demand checks only.
    package var healthInterval: Duration? = .seconds(5)
    /// A working environment slower than this is `degraded`.
    package var degradedAfterMs: Double = 1_000
    package var connectTimeout: Duration = .seconds(2)

    package init(blue: UpstreamTarget, green: UpstreamTarget) {
        self.blue = blue
        self.green = green
    }

    var targets: [Environment: UpstreamTarget] { [.blue: blue, .green: green] }
}
