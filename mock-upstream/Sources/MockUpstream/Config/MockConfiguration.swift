import ConfigInput
import Foundation
import HTTPServerCore

/// How one mock upstream runs: its identity, where it listens, its models and faults.
public struct MockConfiguration: Sendable {
    /// The environment this mock stands for (`blue`, `green`, …); sent as `X-Upstream-Env`.
    public var name: String
    /// The address both listeners bind: loopback unless told otherwise.
    public var host: String
    /// Relay port; 0 picks a free one.
    public var port: Int
    /// Admin port; 0 picks a free one.
    public var adminPort: Int
    /// Seeds fault decisions and completion text.
    public var seed: UInt64
    /// The models `GET /v1/models` lists; a chat request for another is a 404.
    public var models: [String]
    /// When set, relay requests need `Authorization: Bearer <apiKey>`.
    public var apiKey: String?
    /// Faults active from the start.
    public var faults: [Fault]
    /// Reported in `system_fingerprint`.
    public var version: String
    /// Ledger entries kept before the oldest are dropped (and counted).
    public var ledgerCapacity: Int

    /// The models a mock offers unless given others.
    public static let defaultModels = ["gpt-4.1", "claude-sonnet-4.5", "gemini-2.5-flash", "deepseek-v3.2"]

    /// A configuration; ports 0 pick free ones when the mock starts.
    public init(
        name: String, host: String = "127.0.0.1", port: Int = 0, adminPort: Int = 0, seed: UInt64 = 0,
        models: [String] = MockConfiguration.defaultModels, apiKey: String? = nil, faults: [Fault] = [],
        version: String = MockUpstream.version, ledgerCapacity: Int = 1_000_000
    ) {
        self.name = name
        self.host = host
        self.port = port
        self.adminPort = adminPort
        self.seed = seed
        self.models = models
        self.apiKey = apiKey
        self.faults = faults
        self.version = version
        self.ledgerCapacity = ledgerCapacity
    }

    /// Reads a YAML (or JSON) config file; every error names the file, line and field.
    /// Keys: name, host, port, admin_port, seed, models, api_key, faults, ledger_capacity.
    package static func load(file path: String, name defaultName: String = "mock") throws(ConfigError) -> MockConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(source: path, line: nil, field: "", message: "cannot read file: \(error.localizedDescription)")
        }
        return try parse(ConfigNode.parseYAML(text, source: path), name: defaultName)
    }

    package static func parse(_ root: ConfigNode, name defaultName: String) throws(ConfigError) -> MockConfiguration {
        let fields = try root.object(allowed: ["name", "host", "port", "admin_port", "seed", "models", "api_key", "faults", "ledger_capacity"])
        var config = MockConfiguration(name: try fields["name"]?.string() ?? defaultName)
        if let host = fields["host"] {
            config.host = try host.string()
            guard isLoopback(config.host) else { throw host.error("expected a loopback address (127.0.0.0/8, localhost or ::1), got '\(config.host)'") }
        }
        config.port = try fields["port"]?.int(in: 0...65535) ?? 0
        config.adminPort = try fields["admin_port"]?.int(in: 0...65535) ?? 0
        config.seed = UInt64(try fields["seed"]?.int(in: 0...Int.max) ?? 0)
        if let models = fields["models"] {
            var names: [String] = []
            for item in try models.array() { names.append(try item.string()) }
            guard !names.isEmpty else { throw models.error("expected at least one model") }
            config.models = names
        }
        config.apiKey = try fields["api_key"]?.string()
        if let faults = fields["faults"] { config.faults = try Fault.parseList(faults) }
        config.ledgerCapacity = try fields["ledger_capacity"]?.int(in: 1...100_000_000) ?? config.ledgerCapacity
        return config
    }

    /// Servers here bind to loopback only.
    package static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
