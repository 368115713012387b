import Foundation

/// A router profile (SPEC §5, `suites/routers/NAME.yaml`): how to start a router in front of
/// given blue and green upstreams, how to carry out each action, how to read its weight,
/// and how to stop it. `reference` is the bundled `bluegreen-router`; `exec` and `http`
/// drive any router build through shell commands or an HTTP admin API.
public struct RouterProfile: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case reference, nginx, haproxy, exec, http
    }

    /// One step: a shell command (exit 0 = done, anything else = refused) or an HTTP
    /// request (2xx = done).
    public enum Step: Sendable, Equatable {
        case command(ProfileTemplate)
        case request(Request)
    }

    public struct Request: Sendable, Equatable {
        public var method: String
        public var url: ProfileTemplate
        public var body: ProfileTemplate?
        public var headers: [Header]
    }

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: ProfileTemplate
    }

    public var name: String
    public var kind: Kind
    public var description: String
    /// The file it was read from ("built-in" for one made in code).
    public var source: String
    /// Commands run in this folder (the profile file's), so `./deploy.sh` is found beside it.
    public var folder: URL
    /// `reference`: the bluegreen-router to run (default: the one beside cutover).
    public var binary: String?
    /// `nginx`: how the configuration is rendered and deployed.
    public var nginx: NginxRouter.Settings?
    /// `haproxy`: how the configuration is rendered and weights are changed.
    public var haproxy: HAProxyRouter.Settings?
    /// `exec`/`http`: started in the background, in a process group of its own.
    public var start: ProfileTemplate?
    /// Where the load goes.
    public var url: ProfileTemplate?
    /// Polled until it answers 2xx before the run starts.
    public var ready: ProfileTemplate?
    /// By action name: validate, canary, promote, rollback, restart.
    public var actions: [String: Step]
    /// Reads green's weight: a number, or JSON with `weights.green`, `green_weight` or `green`.
    public var status: Step?
    /// Run before the harness stops the start command's process group.
    public var stop: ProfileTemplate?
    /// The router build's file, fingerprinted (SHA-256) in the reports.
    public var executable: ProfileTemplate?
    /// Prints the router build's version.
    public var version: Step?

    /// The action steps a profile may have, and the ones an `exec` or `http` profile must have.
    static let actionNames = ["validate", "canary", "promote", "rollback", "restart"]
    static let requiredActions = ["canary", "promote", "rollback"]

    /// The built-in reference profile, for a run that names no profile file.
    public static let reference = RouterProfile(
        name: "reference", kind: .reference, description: "the bluegreen-router built beside cutover", source: "built-in",
        folder: URL(fileURLWithPath: FileManager.default.currentDirectoryPath), actions: [:])

    init(
        name: String, kind: Kind, description: String, source: String, folder: URL, binary: String? = nil, start: ProfileTemplate? = nil,
        url: ProfileTemplate? = nil, ready: ProfileTemplate? = nil, actions: [String: Step], status: Step? = nil, stop: ProfileTemplate? = nil,
        executable: ProfileTemplate? = nil, version: Step? = nil
    ) {
        self.name = name
        self.kind = kind
        self.description = description
        self.source = source
        self.folder = folder
        self.binary = binary
        self.start = start
        self.url = url
        self.ready = ready
        self.actions = actions
        self.status = status
        self.stop = stop
        self.executable = executable
        self.version = version
    }

    /// A reference profile's router: the override, else its `binary` (relative to the
    /// profile's folder), else the bluegreen-router beside cutover.
    public func routerBinary(override: URL? = nil) -> URL {
        override ?? binary.map { URL(fileURLWithPath: $0, relativeTo: folder).standardizedFileURL } ?? ReferenceRouter.besideCurrentExecutable()
    }

    /// The driver that carries the profile out. `referenceBinary` overrides the reference
    /// profile's router (`--router-binary`).
    public func driver(referenceBinary: URL? = nil) -> any RouterDriver {
        switch kind {
        case .reference:
            return ReferenceRouter(executable: routerBinary(override: referenceBinary))
        case .nginx:
            return NginxRouter(name: name, settings: nginx ?? NginxRouter.Settings(), folder: folder)
        case .haproxy:
            return HAProxyRouter(name: name, settings: haproxy ?? HAProxyRouter.Settings(), folder: folder)
        case .exec, .http:
            return ScriptedRouter(self)
        }
    }
}
