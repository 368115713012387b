import CurlHTTP
import Foundation

/// What a router is started in front of: the two upstreams, a scratch folder for this
/// run, and the upstreams' API key when they require one (for the router's own probes).
package struct RouterEnvironment: Sendable {
    package var blue: String
    package var green: String
    package var workdir: URL
    package var upstreamAPIKey: String?
    /// The address the router's proxy listens on: loopback, unless shards on other
    /// machines must reach it (`--coordinator --listen 0.0.0.0:…`; the reference router).
    package var listenHost = "127.0.0.1"

    package init(blue: String, green: String, workdir: URL, upstreamAPIKey: String? = nil, listenHost: String = "127.0.0.1") {
        self.blue = blue
        self.green = green
        self.workdir = workdir
        self.upstreamAPIKey = upstreamAPIKey
        self.listenHost = listenHost
    }
}

/// What the router answered to one action.
package struct ActionOutcome: Sendable, Equatable {
    package var accepted: Bool
    /// Green's weight as the router reports it afterwards (nil when it cannot say).
    package var greenWeight: Int?
    /// The router's words: the refusal reason, or what it did.
    package var detail: String

    package init(accepted: Bool, greenWeight: Int?, detail: String) {
        self.accepted = accepted
        self.greenWeight = greenWeight
        self.detail = detail
    }
}

/// Which router build a run certified.
package struct RouterBuild: Sendable, Equatable {
    package var profile: String
    package var version: String
    /// SHA-256 of the router's executable (empty for routers not started from a file).
    package var sha256: String
    package var executable: String

    package init(profile: String, version: String, sha256: String, executable: String) {
        self.profile = profile
        self.version = version
        self.sha256 = sha256
        self.executable = executable
    }
}

extension RouterBuild {
    /// A router build started from `binary`: its SHA-256, and the version `binary -v`
    /// prints after `marker` (nginx writes "nginx/1.22.1", HAProxy "version 2.6.12").
    static func probe(_ binary: String, profile: String, versionAfter marker: String) async -> RouterBuild {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-\(profile)-v-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let (_, output) = await ProcessGroup.run("exec \(binary) -v", in: FileManager.default.temporaryDirectory, logFile: scratch, timeout: .seconds(10))
        let version = output.components(separatedBy: marker).dropFirst().first.map { String($0.prefix { !$0.isWhitespace }) } ?? "unknown"
        return RouterBuild(profile: profile, version: version, sha256: FileDigest.sha256(of: URL(fileURLWithPath: binary)) ?? "", executable: binary)
    }
}

/// How the harness drives one kind of router (a profile, SPEC §5): start it in front of
/// two upstreams, carry out actions, say its weights, stop it. Known-bad routers in the
/// tests are drivers too.
package protocol RouterDriver: Sendable {
    var profile: String { get }
    /// Starts the router in front of the environment's two upstreams; returns the URL load goes to.
    func start(_ environment: RouterEnvironment) async throws -> String
    func perform(_ action: RouterAction) async -> ActionOutcome
    /// Green's weight in percent right now, when the router can say.
    func greenWeight() async -> Int?
    func build() async -> RouterBuild
    /// Stops everything `start` started; safe to call when `start` failed or never ran.
    func stop() async
    /// For a failed check: the router's published behaviour that explains it, if this kind
    /// of router has one, so that the reader of the report knows what the evidence shows.
    func knownBehaviour(behind failure: CheckResult) -> String?
    /// What the router may change of an exchange (its profile's `relay:` and `model_map:`).
    var relay: RelayTerms { get }
    /// The router's own name in notes on its behaviour ("Known Envoy behaviour: …").
    var routerName: String { get }
    /// Headers the load sends the router on every request, in place of its own same-named
    /// ones (a gateway's key of its own).
    var loadHeaders: [(name: String, value: String)] { get }
    /// Whose health gate a canary meets: the router's own, or none (HealthGate is then not
    /// applicable: a refusal could only be the harness's).
    var gate: RouterGate { get }
    /// Whose figure `greenWeight()` is: the router's answer, or only what the driver wrote.
    var weightSource: WeightSource { get }
    /// Whether the router's listener takes HTTP/2 with prior knowledge (h2c): the suites'
    /// `h2` clients speak it only then, and are kept-alive HTTP/1.1 otherwise.
    var offersHTTP2: Bool { get }
}

extension RouterDriver {
    package func knownBehaviour(behind failure: CheckResult) -> String? { nil }
    package var relay: RelayTerms { RelayTerms() }
    package var routerName: String { profile }
    package var loadHeaders: [(name: String, value: String)] { [] }
    package var gate: RouterGate { .router }
    package var weightSource: WeightSource { .router }
    package var offersHTTP2: Bool { false }
}

extension RouterEnvironment {
    /// `host:port` of an upstream URL, as nginx's `server` and HAProxy's `server` lines want it.
    static func address(_ url: String) -> String {
        url.replacingOccurrences(of: "http://", with: "").split(separator: "/").first.map(String.init) ?? url
    }

    /// Whether green answers `GET /v1/models` 2xx (with the upstreams' key, if any): the
    /// health gate of the profiles whose router has none of its own (nginx, HAProxy).
    func greenHealth(_ client: CurlClient) async -> (ok: Bool, detail: String) {
        let headers = upstreamAPIKey.map { [("Authorization", "Bearer \($0)")] } ?? []
        let response = await client.get("\(green)/v1/models", headers: headers, timeoutMs: 2_000)
        if let error = response.error { return (false, "green: \(error)") }
        return ((200..<300).contains(response.status), "green answered GET /v1/models \(response.status)")
    }
}
