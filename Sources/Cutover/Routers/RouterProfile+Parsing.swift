import ConfigInput
import Foundation

extension RouterProfile {
    /// Finds `--router NAME|FILE`: a path (it has a `/` or ends in `.yaml`) is read as it is;
    /// a name is `routers/NAME.yaml` in the suites folder. `reference` needs no file.
    package static func resolve(_ nameOrFile: String, suitesFolder: URL?) throws(ConfigError) -> RouterProfile {
        if nameOrFile.contains("/") || nameOrFile.hasSuffix(".yaml") || nameOrFile.hasSuffix(".yml") {
            return try load(file: nameOrFile)
        }
        let candidate = suitesFolder?.appendingPathComponent("routers/\(nameOrFile).yaml")
        if let candidate, FileManager.default.fileExists(atPath: candidate.path) { return try load(file: candidate.path) }
        if nameOrFile == "reference" { return .builtInReference }
        let known = (suitesFolder.flatMap { try? FileManager.default.contentsOfDirectory(atPath: $0.appendingPathComponent("routers").path) } ?? [])
            .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
        throw ConfigError(
            source: "--router", line: nil, field: "router",
            message: "no router profile '\(nameOrFile)'; expected one of \((known.isEmpty ? ["reference"] : known).joined(separator: ", ")) or a profile file")
    }

    /// Reads a profile file; every error names the file, the line and the field.
    package static func load(file path: String) throws(ConfigError) -> RouterProfile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(source: path, line: nil, field: "", message: "cannot read router profile: \(error.localizedDescription)")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL
        return try parse(yaml: text, source: path, folder: folder)
    }

    /// Parses a profile written in YAML. Unknown keys, kinds, placeholders, missing steps
    /// and placeholders a field cannot have are all errors.
    package static func parse(yaml: String, source: String, folder: URL) throws(ConfigError) -> RouterProfile {
        try parse(root: try ConfigNode.parseYAML(yaml, source: source), folder: folder)
    }

    /// Parses a profile from its document tree (a file's YAML, or a profile built in code
    /// rendered as JSON): both meet the same checks.
    package static func parse(root: ConfigNode, folder: URL) throws(ConfigError) -> RouterProfile {
        let source = root.source
        guard let kindNode = try root.entries().first(where: { $0.key == "kind" })?.node else {
            throw root.error("missing 'kind' (expected \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let kindName = try kindNode.string()
        guard let kind = Kind(rawValue: kindName) else {
            throw kindNode.error("expected one of \(Kind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(kindName)'")
        }
        let common: Set<String> = ["name", "kind", "description", "relay", "model_map"]
        let scripted = [
            "start", "url", "ready", "stop", "status", "executable", "version", "files", "path", "router", "known_behaviour", "load_headers", "gate",
            "health_gate", "http2",
        ]
        let fields: [String: ConfigNode]
        switch kind {
        case .reference: fields = try root.object(allowed: common.union(["binary"]))
        case .nginx:
            fields = try root.object(
                allowed: common.union([
                    "binary", "workers", "keepalive", "keepalive_timeout", "split_on", "deploy", "health_gate", "proxy_next_upstream",
                    "worker_shutdown_timeout", "failover",
                ]))
        case .haproxy:
            fields = try root.object(
                allowed: common.union(["binary", "threads", "hash_type", "runtime_answers", "server_state", "health_gate", "retry_on", "redispatch"]))
        case .exec: fields = try root.object(allowed: common.union(scripted + actionNames))
        case .http: fields = try root.object(allowed: common.union(scripted + ["actions"]))
        }
        guard let nameNode = fields["name"] else { throw root.error("missing 'name'") }
        let name = try nameNode.string()
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw nameNode.error("expected a name of letters, digits, '-' or '_', got '\(name)'")
        }
        var profile = RouterProfile(
            name: name, kind: kind, description: try fields["description"]?.string() ?? "", source: source, folder: folder, actions: [:])
        if let node = fields["relay"] { profile.relay.kind = try choice(node) }
        if let node = fields["model_map"] {
            for entry in try node.entries() {
                let upstream = try entry.node.string()
                guard !entry.key.isEmpty, !upstream.isEmpty else { throw entry.node.error("expected a model name for the upstream, got '\(upstream)'") }
                profile.relay.modelMap[entry.key] = upstream
            }
        }
        if kind == .reference {
            profile.binary = try fields["binary"]?.string()
            return profile
        }
        if kind == .nginx {
            profile.nginx = try nginxSettings(fields)
            return profile
        }
        if kind == .haproxy {
            profile.haproxy = try haproxySettings(fields)
            return profile
        }

        // What each field may refer to: ports and URLs everywhere; {percent} only in a
        // canary, the weights only where they move; {pid} only once there is a started
        // process to name.
        let started = fields["start"] != nil
        let base = ProfileTemplate.upstreams.union(["port", "admin_port", "workdir"])
        let afterStart = started ? base.union(["pid"]) : base
        func actionPlaceholders(_ action: String) -> Set<String> {
            switch RouterAction.Kind(rawValue: action) {
            case .canary: afterStart.union(["percent"]).union(ProfileTemplate.weights)
            case .promote, .rollback: afterStart.union(ProfileTemplate.weights)
            default: afterStart
            }
        }
        try scriptedExtras(fields, into: &profile, folder: folder, allowed: base.union(ProfileTemplate.weights))
        func template(_ key: String, _ allowed: Set<String>) throws(ConfigError) -> ProfileTemplate? {
            guard let node = fields[key] else { return nil }
            return try ProfileTemplate(node, allowed: allowed)
        }
        profile.start = try template("start", base)
        guard let url = try template("url", ["port", "admin_port"]) else {
            throw root.error("missing 'url' (where the load goes, e.g. http://127.0.0.1:{port})")
        }
        profile.url = url
        profile.ready = try template("ready", ["port", "admin_port"])
        profile.stop = try template("stop", afterStart)
        profile.executable = try template("executable", ["workdir"])
        profile.gate = try template("gate", afterStart)

        switch kind {
        case .exec:
            for action in actionNames {
                if let node = fields[action] {
                    profile.actions[action] = .command(try ProfileTemplate(node, allowed: actionPlaceholders(action)))
                }
            }
            if let node = fields["status"] { profile.status = .command(try ProfileTemplate(node, allowed: afterStart)) }
            if let node = fields["version"] { profile.version = .command(try ProfileTemplate(node, allowed: afterStart)) }
            for action in requiredActions where profile.actions[action] == nil {
                throw root.error("missing '\(action)' (the shell command that carries out a \(action); exit 0 means done)")
            }
        case .http:
            guard let actions = fields["actions"] else { throw root.error("missing 'actions' (canary, promote and rollback requests)") }
            for (action, node) in try actions.object(allowed: Set(actionNames)) {
                profile.actions[action] = .request(try request(node, allowed: actionPlaceholders(action)))
            }
            for action in requiredActions where profile.actions[action] == nil {
                throw actions.error("missing '\(action)' (the request that carries out a \(action); 2xx means done)")
            }
            if let node = fields["status"] { profile.status = .request(try request(node, allowed: afterStart)) }
            if let node = fields["version"] { profile.version = .request(try request(node, allowed: afterStart)) }
        case .reference, .nginx, .haproxy:
            break
        }
        return profile
    }

    /// The fields an `exec` or `http` profile has beyond its steps: `files`, `path`,
    /// `router`, `known_behaviour` and `load_headers`.
    private static func scriptedExtras(
        _ fields: [String: ConfigNode], into profile: inout RouterProfile, folder: URL, allowed: Set<String>
    ) throws(ConfigError) {
        if let node = fields["files"] {
            for item in try node.array() { profile.files.append(try ProfileFile(item, folder: folder, allowed: allowed)) }
        }
        if let node = fields["path"] {
            for item in try node.array() {
                let folderName = try item.string()
                guard !folderName.isEmpty else { throw item.error("expected a folder (relative to the profile's), got ''") }
                let url = folderName.hasPrefix("/") ? URL(fileURLWithPath: folderName) : folder.appendingPathComponent(folderName)
                profile.searchPath.append(url.standardizedFileURL.path)
            }
        }
        if let node = fields["health_gate"] { profile.hasHealthGate = try node.bool() }
        if let node = fields["http2"] { profile.offersHTTP2 = try node.bool() }
        if let node = fields["router"] {
            let name = try node.string()
            guard !name.isEmpty else { throw node.error("expected the router's name, such as Envoy") }
            profile.routerName = name
        }
        if let node = fields["known_behaviour"] {
            for entry in try node.entries() {
                guard let check = CheckID(rawValue: entry.key) else {
                    throw entry.node.error("unknown check '\(entry.key)'; expected one of \(CheckID.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let text = try entry.node.string()
                guard !text.isEmpty else { throw entry.node.error("expected the published behaviour that explains a failed \(entry.key)") }
                profile.knownBehaviour[check] = text
            }
        }
        if let node = fields["load_headers"] {
            for entry in try node.entries() {
                let value = try entry.node.string()
                guard !entry.key.isEmpty, entry.key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                    throw entry.node.error("expected a header name of letters, digits, '-' or '_', got '\(entry.key)'")
                }
                guard !value.contains("\r"), !value.contains("\n") else { throw entry.node.error("a header value cannot span lines") }
                profile.loadHeaders.append((entry.key, value))
            }
        }
    }

    private static func nginxSettings(_ fields: [String: ConfigNode]) throws(ConfigError) -> NginxRouter.Settings {
        var settings = NginxRouter.Settings()
        func positive(_ node: ConfigNode) throws(ConfigError) -> Duration {
            let duration = try node.duration()
            guard duration >= .milliseconds(1) else { throw node.error("expected a duration of at least 1ms") }
            return duration
        }
        if let node = fields["binary"] { settings.binary = try node.string() }
        if let node = fields["workers"] { settings.workers = try node.int(in: 1...64) }
        if let node = fields["keepalive"] { settings.keepalive = try node.int(in: 0...100_000) }
        if let node = fields["keepalive_timeout"] { settings.keepaliveTimeout = try positive(node) }
        if let node = fields["split_on"] {
            settings.splitOn = try choice(node)
        }
        if let node = fields["deploy"] {
            settings.deploy = try choice(node)
        }
        if let node = fields["health_gate"] { settings.healthGate = try node.bool() }
        if let node = fields["failover"] { settings.failover = try node.bool() }
        if let node = fields["worker_shutdown_timeout"] { settings.workerShutdownTimeout = try positive(node) }
        if let node = fields["proxy_next_upstream"] {
            settings.proxyNextUpstream = try conditions(
                node, "proxy_next_upstream",
                [
                    "error", "timeout", "invalid_header", "http_500", "http_502", "http_503", "http_504", "http_403", "http_404", "http_429", "non_idempotent",
                    "off",
                ])
        }
        return settings
    }

    private static func haproxySettings(_ fields: [String: ConfigNode]) throws(ConfigError) -> HAProxyRouter.Settings {
        var settings = HAProxyRouter.Settings()
        if let node = fields["binary"] { settings.binary = try node.string() }
        if let node = fields["threads"] { settings.threads = try node.int(in: 1...64) }
        if let node = fields["hash_type"] {
            settings.hashType = try choice(node)
        }
        if let node = fields["runtime_answers"] {
            settings.runtimeAnswers = try choice(node)
        }
        if let node = fields["server_state"] { settings.serverState = try node.bool() }
        if let node = fields["health_gate"] { settings.healthGate = try node.bool() }
        if let node = fields["redispatch"] { settings.redispatch = try node.bool() }
        if let node = fields["retry_on"] {
            settings.retryOn = try conditions(
                node, "retry-on",
                [
                    "none", "conn-failure", "empty-response", "junk-response", "response-timeout", "0rtt-rejected", "all-retryable-errors",
                    "404", "408", "425", "500", "501", "502", "503", "504",
                ])
        }
        return settings
    }

    /// One of an enum's raw values.
    private static func choice<Value: RawRepresentable & CaseIterable>(_ node: ConfigNode) throws(ConfigError) -> Value where Value.RawValue == String {
        Value(rawValue: try node.choice(Value.allCases.map(\.rawValue)))!
    }

    /// A space-separated list of `directive`'s conditions, each one of `known`, at least one.
    private static func conditions(_ node: ConfigNode, _ directive: String, _ known: Set<String>) throws(ConfigError) -> String {
        let text = try node.string()
        let words = text.split(separator: " ")
        if let bad = words.first(where: { !known.contains(String($0)) }) {
            throw node.error("unknown \(directive) condition '\(bad)'; expected some of \(known.sorted().joined(separator: ", "))")
        }
        guard !words.isEmpty else { throw node.error("expected at least one \(directive) condition") }
        return text
    }

    /// `{method, url, body, headers}`; the method defaults to POST (GET for a status).
    private static func request(_ node: ConfigNode, allowed: Set<String>) throws(ConfigError) -> Request {
        let fields = try node.object(allowed: ["method", "url", "body", "headers"])
        let method = try fields["method"]?.choice(["GET", "POST", "PUT", "PATCH", "DELETE"]) ?? (fields["body"] == nil ? "GET" : "POST")
        guard let urlNode = fields["url"] else { throw node.error("missing 'url'") }
        let url = try ProfileTemplate(urlNode, allowed: allowed)
        guard url.text.hasPrefix("http://") else { throw urlNode.error("expected an http:// URL, got '\(url.text)'") }
        var headers: [Header] = []
        if let headerNode = fields["headers"] {
            for entry in try headerNode.entries() {
                headers.append(Header(name: entry.key, value: try ProfileTemplate(entry.node, allowed: allowed)))
            }
        }
        return Request(
            method: method, url: url, body: try fields["body"].map { node throws(ConfigError) in try ProfileTemplate(node, allowed: allowed) }, headers: headers
        )
    }
}
