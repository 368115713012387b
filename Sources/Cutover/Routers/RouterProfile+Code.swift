import ConfigInput
import Foundation
import HTTPServerCore

extension RouterProfile {
    /// The reference router, `bluegreen-router`.
    ///
    /// - Parameter binary: The build to certify. By default: `$CUTOVER_ROUTER_BINARY`,
    ///   else one beside the running executable, else the release or debug build in the
    ///   Cutover checkout (`swift build --product bluegreen-router` there makes one).
    public static func reference(binary: String? = nil) -> RouterProfile {
        var profile = builtInReference
        profile.binary = binary ?? ReferenceRouter.candidates().first { FileManager.default.isExecutableFile(atPath: $0.path) }?.path
        profile.source = "router profile built in code"
        return profile
    }

    /// nginx 1.18 or later, configured by Cutover: `split_clients` on the session key,
    /// weights changed by re-rendering the configuration and a graceful reload.
    ///
    /// - Parameters:
    ///   - binary: The nginx executable: a path, or a name on `PATH` (also `/usr/sbin`).
    ///   - workers: nginx's `worker_processes`.
    /// - Throws: ``CutoverError`` when a setting is out of range.
    public static func nginx(binary: String = "nginx", workers: Int = 1) throws(CutoverError) -> RouterProfile {
        try build(["name": .string("nginx"), "kind": .string("nginx"), "binary": .string(binary), "workers": .int(workers)])
    }

    /// HAProxy 2.4 or later in master-worker mode: `balance hdr(X-Session-ID)` with
    /// consistent hashing, weights through the runtime API.
    ///
    /// - Parameters:
    ///   - binary: The haproxy executable: a path, or a name on `PATH`.
    ///   - threads: HAProxy's `nbthread`.
    ///   - keepServerState: Save the weights across a reload (`server-state-file`);
    ///     without it a restart forgets them, which StateSurvivesRestart catches.
    /// - Throws: ``CutoverError`` when a setting is out of range.
    public static func haproxy(binary: String = "haproxy", threads: Int = 1, keepServerState: Bool = true) throws(CutoverError) -> RouterProfile {
        try build([
            "name": .string("haproxy"), "kind": .string("haproxy"), "binary": .string(binary), "threads": .int(threads),
            "server_state": .bool(keepServerState),
        ])
    }

    /// Any router build driven by shell commands (SPEC §5, kind `exec`). Commands may use
    /// the placeholders `{blue}`, `{green}`, `{port}`, `{admin_port}`, `{workdir}`, `{pid}`
    /// (after `start`) and, in `canary`, `{percent}`. Exit 0 means done; anything else
    /// means refused, and the output is the reason in the report.
    ///
    /// - Parameters:
    ///   - name: The profile's name in reports.
    ///   - start: Starts the router in the foreground; Cutover stops it by its PID.
    ///   - url: Where the load goes, such as `http://127.0.0.1:{port}`.
    ///   - ready: A URL that answers 2xx once the router is up.
    ///   - validate: Health-checks both environments (optional).
    ///   - canary: Sends `{percent}` % of sessions to green.
    ///   - promote: Sends everything to green.
    ///   - rollback: Sends everything back to blue.
    ///   - restart: Restarts the router, which must keep its weights (optional).
    ///   - status: Prints green's weight: a number, or JSON with `weights.green`.
    ///   - version: Prints the build's version: its first line, or JSON with `version`.
    ///   - stop: Stops the router (optional); its process group then gets SIGTERM, and SIGKILL after 10 s.
    ///   - executable: The build to fingerprint in the report: a path or a name on `PATH`.
    ///   - folder: Where the commands run (default: the current directory).
    /// - Throws: ``CutoverError`` naming the field when a command is missing or uses a
    ///   placeholder it cannot have.
    public static func exec(
        name: String = "exec", start: String? = nil, url: String, ready: String? = nil, validate: String? = nil, canary: String, promote: String,
        rollback: String, restart: String? = nil, status: String? = nil, version: String? = nil, stop: String? = nil, executable: String? = nil,
        folder: String? = nil
    ) throws(CutoverError) -> RouterProfile {
        var fields: [String: JSON] = ["name": .string(name), "kind": .string("exec"), "url": .string(url)]
        let optional: [String: String?] = [
            "start": start, "ready": ready, "validate": validate, "canary": canary, "promote": promote, "rollback": rollback, "restart": restart,
            "status": status, "version": version, "stop": stop, "executable": executable,
        ]
        for case let (key, value?) in optional { fields[key] = .string(value) }
        return try build(fields, folder: folder)
    }

    /// Any router build with an HTTP admin API (SPEC §5, kind `http`): each action is one
    /// templated request, and 2xx means done. Placeholders as for ``exec(name:start:url:ready:validate:canary:promote:rollback:restart:status:version:stop:executable:folder:)``.
    ///
    /// - Throws: ``CutoverError`` naming the field when a request is missing or invalid.
    public static func http(
        name: String = "http", start: String? = nil, url: String, ready: String? = nil, validate: AdminRequest? = nil, canary: AdminRequest,
        promote: AdminRequest, rollback: AdminRequest, restart: AdminRequest? = nil, status: AdminRequest? = nil, version: AdminRequest? = nil,
        stop: String? = nil, executable: String? = nil, folder: String? = nil
    ) throws(CutoverError) -> RouterProfile {
        var fields: [String: JSON] = ["name": .string(name), "kind": .string("http"), "url": .string(url)]
        for case let (key, value?) in ["start": start, "ready": ready, "stop": stop, "executable": executable] { fields[key] = .string(value) }
        let actions: [String: AdminRequest?] = ["validate": validate, "canary": canary, "promote": promote, "rollback": rollback, "restart": restart]
        fields["actions"] = .object(actions.compactMap { key, value in value.map { (key, $0.json) } }.sorted { $0.0 < $1.0 })
        if let status { fields["status"] = status.json }
        if let version { fields["version"] = version.json }
        return try build(fields, folder: folder)
    }

    /// A profile by name (`reference`, `nginx`, `haproxy`, or a file's name in
    /// `suites/routers/`) or a profile file's path.
    ///
    /// - Throws: ``CutoverError`` naming the file, the line and the field.
    public static func named(_ nameOrFile: String) throws(CutoverError) -> RouterProfile {
        do {
            let profile = try RouterProfile.resolve(nameOrFile, suitesFolder: SuiteLibrary.locate().directory)
            return profile.kind == .reference && profile.binary == nil ? .reference() : profile
        } catch {
            throw CutoverError(error)
        }
    }

    /// How a router relays answers, which decides how Cutover matches each answer with the
    /// one the upstream gave (a profile file's `relay:`).
    public enum Relay: String, Sendable {
        /// A proxy: the client must get the upstream's body bytes exactly (the default).
        case verbatim
        /// A gateway that re-encodes JSON or re-frames SSE: each answer must say what the
        /// upstream's said (text, finish reason, usage; error fields), whatever its framing.
        case semantic
    }

    /// This profile for a router that relays answers as `relay` says and may send upstream
    /// the models of `modelMap` (client model to upstream model) in place of the ones asked
    /// for; RequestIntegrity holds it to every other field of the request.
    public func relaying(_ relay: Relay, modelMap: [String: String] = [:]) -> RouterProfile {
        var profile = self
        profile.relay = RelayTerms(kind: relay == .semantic ? .semantic : .verbatim, modelMap: modelMap)
        return profile
    }

    /// One templated HTTP request of an `http` profile.
    public struct AdminRequest: Sendable {
        var json: JSON

        /// A request; `url` must be `http://`. The method defaults to POST with a body, GET without.
        public init(_ url: String, method: String? = nil, body: String? = nil, headers: [String: String] = [:]) {
            var pairs: [(String, JSON)] = [("url", .string(url))]
            if let method { pairs.append(("method", .string(method))) }
            if let body { pairs.append(("body", .string(body))) }
            if !headers.isEmpty { pairs.append(("headers", .object(headers.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))) }
            json = .object(pairs)
        }
    }

    /// Checks a profile built in code by the rules of a profile file.
    private static func build(_ fields: [String: JSON], folder: String? = nil) throws(CutoverError) -> RouterProfile {
        let name = if case .string(let text)? = fields["name"] { text } else { "?" }
        let document = JSON.object(fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        let base = URL(fileURLWithPath: folder ?? FileManager.default.currentDirectoryPath).standardizedFileURL
        do {
            let root = try ConfigNode.parseJSON(Array(document.text.utf8), source: "router profile '\(name)' built in code")
            return try parse(root: root, folder: base)
        } catch {
            throw CutoverError(error)
        }
    }
}
