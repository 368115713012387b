import Foundation

/// A router profile (SPEC §5, `suites/routers/NAME.yaml`): how to start a router in front of
/// given blue and green upstreams, how to carry out each action, how to read its weight,
/// and how to stop it. `reference` is the bundled `bluegreen-router`; `exec` and `http`
/// drive any router build through shell commands or an HTTP admin API.
public struct RouterProfile: Sendable {
    package enum Kind: String, Sendable, CaseIterable {
        case reference, nginx, haproxy, exec, http
    }

    /// One step: a shell command (exit 0 = done, anything else = refused) or an HTTP
    /// request (2xx = done).
    package enum Step: Sendable, Equatable {
        case command(ProfileTemplate)
        case request(Request)
    }

    package struct Request: Sendable, Equatable {
        package var method: String
        package var url: ProfileTemplate
        package var body: ProfileTemplate?
        package var headers: [Header]
    }

    package struct Header: Sendable, Equatable {
        public package(set) var name: String
        package var value: ProfileTemplate
    }

    /// The profile's name, as reports show it.
    public package(set) var name: String
    package var kind: Kind
    /// What the profile certifies, in a line.
    public package(set) var description: String
    /// The file it was read from ("built-in" for one made in code).
    package var source: String
    /// Commands run in this folder (the profile file's), so `./deploy.sh` is found beside it.
    package var folder: URL
    /// `reference`: the bluegreen-router to run (default: the one beside cutover).
    package var binary: String?
    /// `nginx`: how the configuration is rendered and deployed.
    package var nginx: NginxRouter.Settings?
    /// `haproxy`: how the configuration is rendered and weights are changed.
    package var haproxy: HAProxyRouter.Settings?
    /// `exec`/`http`: started in the background, in a process group of its own.
    package var start: ProfileTemplate?
    /// Where the load goes.
    package var url: ProfileTemplate?
    /// Polled until it answers 2xx before the run starts.
    package var ready: ProfileTemplate?
    /// By action name: validate, canary, promote, rollback, restart.
    package var actions: [String: Step]
    /// Reads green's weight: a number, or JSON with `weights.green`, `green_weight` or `green`.
    package var status: Step?
    /// Run before the harness stops the start command's process group.
    package var stop: ProfileTemplate?
    /// The router build's file, fingerprinted (SHA-256) in the reports.
    package var executable: ProfileTemplate?
    /// Prints the router build's version.
    package var version: Step?
    /// What the router may change of an exchange (`relay:`, `model_map:`).
    package var relay = RelayTerms()
    /// `exec`/`http`: configuration files rendered from templates at the start and before
    /// each weight change.
    package var files: [ProfileFile] = []
    /// `exec`: run before a canary or a promote, ahead of any rendering; a failure refuses the
    /// action with its output (a deploy pipeline's health gate, asking the router's own checks).
    package var gate: ProfileTemplate?
    /// `exec`/`http`: whether the router has a health gate of its own (it refuses a canary
    /// itself, or `gate:` asks its health checks); without one HealthGate is not applicable.
    package var hasHealthGate = true
    /// `exec`/`http`: whether the router's listener takes HTTP/2 with prior knowledge (h2c),
    /// so the suites' `h2` clients speak it (`http2: true`).
    package var offersHTTP2 = false
    /// `exec`/`http`: folders (relative to the profile's) searched first for the steps'
    /// commands, such as the project's own install of the router.
    package var searchPath: [String] = []
    /// `exec`/`http`: the router's published behaviour behind a failed check, for the report.
    package var knownBehaviour: [CheckID: String] = [:]
    /// The router's own name, as notes on its behaviour say it ("Envoy").
    package var routerName: String?
    /// Headers the load sends to the router on every request (a gateway's own key), in
    /// place of the same-named ones it would send.
    package var loadHeaders: [(name: String, value: String)] = []

    /// The action steps a profile may have, and the ones an `exec` or `http` profile must have.
    /// (`crash` is the harness's own doing: SIGKILL to the router's processes, then `start`.)
    static let actionNames = RouterAction.names.filter { $0 != RouterAction.crash.name }
    static let requiredActions = [RouterAction.Kind.canary, .promote, .rollback].map(\.rawValue)

    /// The built-in reference profile, for a run that names no profile file.
    package static let builtInReference = RouterProfile(
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
    package func routerBinary(override: URL? = nil) -> URL {
        override ?? binary.map { URL(fileURLWithPath: $0, relativeTo: folder).standardizedFileURL } ?? ReferenceRouter.besideCurrentExecutable()
    }

    /// The driver that carries the profile out. `referenceBinary` overrides the reference
    /// profile's router (`--router-binary`).
    package func driver(referenceBinary: URL? = nil) -> any RouterDriver {
        switch kind {
        case .reference:
            return ReferenceRouter(executable: routerBinary(override: referenceBinary), relay: relay)
        case .nginx:
            return NginxRouter(name: name, settings: nginx ?? NginxRouter.Settings(), folder: folder, relay: relay)
        case .haproxy:
            return HAProxyRouter(name: name, settings: haproxy ?? HAProxyRouter.Settings(), folder: folder, relay: relay)
        case .exec, .http:
            return ScriptedRouter(self)
        }
    }
}
