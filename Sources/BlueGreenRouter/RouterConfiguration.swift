/// How one router runs: its two upstreams, where it listens, and its policies.
public struct RouterConfiguration: Sendable {
    public var blue: UpstreamTarget
    public var green: UpstreamTarget
    public var listenHost = "127.0.0.1"
    /// Proxy port; 0 picks a free one.
    public var listenPort = 0
    public var adminHost = "127.0.0.1"
    /// Admin port; 0 picks a free one.
    public var adminPort = 0
    /// Where weights and the active environment persist; nil keeps them in memory only.
    public var stateFile: String?
    /// The header whose value keeps a session on one environment.
    public var sessionHeader = "X-Session-ID"
    /// When set, the admin API requires `Authorization: Bearer <token>`.
    public var adminToken: String?
    /// Sent as `Authorization: Bearer <key>` on health probes, for upstreams that require
    /// a key (client requests carry their own, which the proxy passes through).
    public var healthAPIKey: String?
    /// Models probed by health checks; empty probes the first listed model.
    public var healthModels: [String] = []
    /// How long SIGTERM waits for in-flight requests and streams.
    public var drainTimeout: Duration = .seconds(30)
    /// Period of background health checks; nil for on-demand checks only.
    public var healthInterval: Duration? = .seconds(5)
    /// A working environment slower than this is `degraded`.
    public var degradedAfterMs: Double = 1_000
    public var connectTimeout: Duration = .seconds(2)

    public init(blue: UpstreamTarget, green: UpstreamTarget) {
        self.blue = blue
        self.green = green
    }

    var targets: [Environment: UpstreamTarget] { [.blue: blue, .green: green] }
}
