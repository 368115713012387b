import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore
import Testing

/// Router profiles (SPEC §5) read like suites: every shipped profile loads, and bad input
/// is an error that names the file, the line and the field.
@Suite("Router profiles")
struct RouterProfileTests {
    static let suites = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../suites").standardizedFileURL

    @Test func everyShippedProfileLoads() throws {
        let reference = try RouterProfile.resolve("reference", suitesFolder: Self.suites)
        #expect(reference.kind == .reference && reference.source.hasSuffix("suites/routers/reference.yaml"))
        let exec = try RouterProfile.load(file: Self.suites.appendingPathComponent("routers/examples/exec-bluegreen.yaml").path)
        #expect(exec.kind == .exec && exec.actions.keys.sorted() == ["canary", "promote", "rollback", "validate"])
        #expect(exec.start?.placeholders == ["blue", "green", "port", "admin_port", "workdir"])
        let http = try RouterProfile.load(file: Self.suites.appendingPathComponent("routers/examples/http-bluegreen.yaml").path)
        guard case .request(let canary) = http.actions["canary"] else { Issue.record("canary is not a request"); return }
        #expect(canary.method == "POST" && canary.body?.render(["percent": "10"]) == #"{"percent": 10}"#)
        #expect(canary.url.render(["admin_port": "9"]) == "http://127.0.0.1:9/admin/canary")
        let nginx = try RouterProfile.resolve("nginx", suitesFolder: Self.suites)
        #expect(nginx.kind == .nginx && nginx.nginx == NginxRouter.Settings())
        let haproxy = try RouterProfile.resolve("haproxy", suitesFolder: Self.suites)
        #expect(haproxy.kind == .haproxy && haproxy.haproxy == HAProxyRouter.Settings())
        // Without a file, `reference` is built in; any other unknown name lists what exists.
        #expect(try RouterProfile.resolve("reference", suitesFolder: nil).source == "built-in")
        #expect(throws: ConfigError.self) { try RouterProfile.resolve("nope", suitesFolder: Self.suites) }
    }

    static let exec = """
        name: r
        kind: exec
        start: "./r --port {port}"
        url: "http://127.0.0.1:{port}"
        canary: "./d canary {percent}"
        promote: "./d promote"
        rollback: "./d rollback"

        """

    /// (what is wrong, the YAML, the line and field and words the error must name)
    static let badInput: [(String, String, Int?, String, String)] = [
        ("no kind", "name: r\nurl: x\n", nil, "", "missing 'kind'"),
        ("unknown kind", "name: r\nkind: envoy\n", 2, "kind", "expected one of reference, nginx, haproxy, exec, http"),
        ("unknown key", exec + "retries: 3\n", 8, "retries", "unknown key 'retries'"),
        ("no name", "kind: exec\n", nil, "", "missing 'name'"),
        ("no url", exec.replacingOccurrences(of: "url: \"http://127.0.0.1:{port}\"\n", with: ""), nil, "", "missing 'url'"),
        ("no canary", exec.replacingOccurrences(of: "canary: \"./d canary {percent}\"\n", with: ""), nil, "", "missing 'canary'"),
        ("unknown placeholder", exec.replacingOccurrences(of: "./d promote", with: "./d promote {weight}"), 6, "promote", "unknown placeholder {weight}"),
        ("percent outside canary", exec.replacingOccurrences(of: "./d promote", with: "./d promote {percent}"), 6, "promote", "{percent} cannot be used here"),
        (
            "pid without start", exec.replacingOccurrences(of: "start: \"./r --port {port}\"\n", with: "") + "stop: \"kill {pid}\"\n", 7, "stop",
            "{pid} cannot be used here"
        ),
        ("empty command", exec.replacingOccurrences(of: "\"./d promote\"", with: "\"  \""), 6, "promote", "non-empty"),
        (
            "http without actions", "name: r\nkind: http\nurl: \"http://127.0.0.1:{port}\"\n", nil, "", "missing 'actions'"
        ),
        (
            "http action without url", "name: r\nkind: http\nurl: \"http://127.0.0.1:{port}\"\nactions:\n  canary: {method: POST}\n", 5, "actions.canary",
            "missing 'url'"
        ),
        (
            "http bad method", "name: r\nkind: http\nurl: \"http://x\"\nactions:\n  canary: {method: FETCH, url: \"http://x\"}\n", 5, "actions.canary.method",
            "FETCH"
        ),
        (
            "http missing promote",
            "name: r\nkind: http\nurl: \"http://x\"\nactions:\n  canary: {url: \"http://x/{percent}\"}\n  rollback: {url: \"http://x\"}\n", 5,
            "actions", "missing 'promote'"
        ),
        ("haproxy bad hash", "name: r\nkind: haproxy\nhash_type: random\n", 3, "hash_type", "map-based"),
        ("haproxy bad retry", "name: r\nkind: haproxy\nretry_on: conn-failure sometimes\n", 3, "retry_on", "sometimes"),
        ("haproxy threads", "name: r\nkind: haproxy\nthreads: 0\n", 3, "threads", "1"),
        ("haproxy unknown key", "name: r\nkind: haproxy\nbalance: roundrobin\n", 3, "balance", "unknown key 'balance'"),
        ("nginx bad split", "name: r\nkind: nginx\nsplit_on: cookie\n", 3, "split_on", "cookie"),
        ("nginx bad retry", "name: r\nkind: nginx\nproxy_next_upstream: error sometimes\n", 3, "proxy_next_upstream", "sometimes"),
        ("bad relay", exec + "relay: loose\n", 8, "relay", "expected one of verbatim|semantic, got 'loose'"),
        ("model map not a map", exec + "model_map: [gpt-4.1]\n", 8, "model_map", "expected a map"),
        ("model map to nothing", exec + "model_map: {gpt-4.1: \"\"}\n", 8, "model_map.gpt-4.1", "expected a model name"),
        ("weights outside an action", exec + "stop: \"kill {green_weight}\"\n", 8, "stop", "{green_weight} cannot be used here"),
        ("unknown check in a note", exec + "known_behaviour:\n  Stickyness: sessions move\n", 9, "known_behaviour.Stickyness", "unknown check 'Stickyness'"),
        ("empty note", exec + "known_behaviour: {Stickiness: \"\"}\n", 8, "known_behaviour.Stickiness", "expected the published behaviour"),
        ("file without template", exec + "files:\n  - {path: \"{workdir}/r.yaml\"}\n", 9, "files[0]", "missing 'template'"),
        ("file without path", exec + "files:\n  - {template: r.yaml}\n", 9, "files[0]", "missing 'path'"),
        ("template not there", exec + "files:\n  - {template: no-such-template.yaml, path: r.yaml}\n", 9, "files[0].template", "cannot read the template"),
        ("bad load header", exec + "load_headers: {\"Bad Name\": x}\n", 8, "load_headers.Bad Name", "expected a header name"),
        ("gate with percent", exec + "gate: \"./d gate {percent}\"\n", 8, "gate", "{percent} cannot be used here"),
        ("empty router name", exec + "router: \"\"\n", 8, "router", "expected the router's name"),
        ("health gate not a boolean", exec + "health_gate: sometimes\n", 8, "health_gate", "expected true or false"),
        ("http2 not a boolean", exec + "http2: h2c\n", 8, "http2", "expected true or false"),
    ]

    /// The profiles of the routers LLM teams run: each renders its router's own configuration
    /// from templates beside it, and says what its router is and does.
    @Test func thirdPartyProfilesLoadWithTheirFilesAndNotes() throws {
        for name in ["envoy", "caddy", "traefik", "litellm"] {
            let profile = try RouterProfile.resolve(name, suitesFolder: Self.suites)
            #expect(profile.kind == .exec && !profile.files.isEmpty && profile.routerName != nil && !profile.knownBehaviour.isEmpty, "\(name)")
            #expect(profile.searchPath.first?.hasSuffix(".build/routers/bin") == true, "\(name): \(profile.searchPath)")
            #expect(profile.status != nil && profile.actions["restart"] != nil && profile.actions["validate"] != nil, "\(name)")
        }
        let envoy = try RouterProfile.resolve("envoy", suitesFolder: Self.suites)
        #expect(envoy.gate != nil && envoy.files.map(\.template) == ["envoy/bootstrap.yaml", "envoy/route.yaml"])
        #expect(envoy.files[1].text.placeholders == ["blue_weight", "green_weight"])
        let litellm = try RouterProfile.resolve("litellm", suitesFolder: Self.suites)
        #expect(litellm.relay.kind == .semantic && litellm.loadHeaders.map(\.name) == ["Authorization"])
        // The routers whose listener takes h2c say so; LiteLLM's (uvicorn) does not.
        for name in ["envoy", "caddy", "traefik", "litellm"] {
            #expect(try RouterProfile.resolve(name, suitesFolder: Self.suites).offersHTTP2 == (name != "litellm"), "\(name)")
        }
        let variant = try RouterProfile.load(file: Self.suites.appendingPathComponent("routers/variants/envoy-runtime.yaml").path)
        #expect(variant.knownBehaviour[.stickiness] != nil && variant.files.count == 1)
    }

    /// A configuration template's own braces (Caddy's placeholders, JSON) stay as they are;
    /// SPEC §5's names are replaced, and the rendered file replaces the old one whole.
    @Test func aTemplateRendersOnlyTheProfilesPlaceholders() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-template-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "header_up X-Env {http.request.header.X-Session-ID}\nto {green_host}:{green_port} weight {green_weight} {upstream}\n{\"json\": 1}\n"
            .write(to: dir.appendingPathComponent("t.conf"), atomically: true, encoding: .utf8)
        let profile = try RouterProfile.parse(
            yaml: Self.exec + "files:\n  - {template: t.conf, path: \"{workdir}/out/r.conf\"}\n", source: "p.yaml", folder: dir)
        let file = try #require(profile.files.first)
        try file.render(["green_host": "127.0.0.1", "green_port": "9", "green_weight": "20", "workdir": dir.path], workdir: dir)
        let rendered = try String(contentsOf: dir.appendingPathComponent("out/r.conf"), encoding: .utf8)
        #expect(rendered == "header_up X-Env {http.request.header.X-Session-ID}\nto 127.0.0.1:9 weight 20 {upstream}\n{\"json\": 1}\n")
        // A placeholder the file cannot have names the template and its line.
        try "ok\nlisten {port}\nkill {pid}\n".write(to: dir.appendingPathComponent("bad.conf"), atomically: true, encoding: .utf8)
        do {
            _ = try RouterProfile.parse(yaml: Self.exec + "files:\n  - {template: bad.conf, path: r.conf}\n", source: "p.yaml", folder: dir)
            Issue.record("a template with {pid} was accepted")
        } catch {
            #expect(error.source.hasSuffix("bad.conf") && error.line == 3 && error.description.contains("{pid} cannot be used here"), "\(error)")
        }
    }

    /// A gateway's profile says it re-encodes answers and which model names it may map;
    /// every driver the profile makes carries that to the run.
    @Test func relayAndModelMapReachTheRun() throws {
        let profile = try RouterProfile.parse(
            yaml: Self.exec + "relay: semantic\nmodel_map: {gpt-4.1: openai/gpt-4.1}\n", source: "gateway.yaml", folder: URL(fileURLWithPath: "/tmp"))
        #expect(profile.relay == RelayTerms(kind: .semantic, modelMap: ["gpt-4.1": "openai/gpt-4.1"]))
        #expect(profile.driver().relay == profile.relay)
        let plain = try RouterProfile.parse(yaml: Self.exec, source: "plain.yaml", folder: URL(fileURLWithPath: "/tmp"))
        #expect(plain.relay == RelayTerms() && plain.driver().relay.kind == .verbatim)
        // Built in code, as a Swift router team would.
        let coded = RouterProfile.reference().relaying(.semantic, modelMap: ["gpt-4.1": "gpt-4.1-mini"])
        #expect(coded.driver().relay == RelayTerms(kind: .semantic, modelMap: ["gpt-4.1": "gpt-4.1-mini"]))
        for kind in ["reference", "nginx", "haproxy"] {
            let parsed = try RouterProfile.parse(yaml: "name: r\nkind: \(kind)\nrelay: semantic\n", source: "k.yaml", folder: URL(fileURLWithPath: "/tmp"))
            #expect(parsed.driver().relay.kind == .semantic, "\(kind)")
        }
    }

    @Test func badInputNamesFileLineAndField() {
        for (what, yaml, line, field, words) in Self.badInput {
            do {
                _ = try RouterProfile.parse(yaml: yaml, source: "bad.yaml", folder: URL(fileURLWithPath: "/tmp"))
                Issue.record("\(what): accepted")
            } catch {
                #expect(error.source == "bad.yaml", "\(what)")
                if let line { #expect(error.line == line, "\(what): \(error)") }
                #expect(error.field == field, "\(what): \(error)")
                #expect(error.description.contains(words), "\(what): \(error)")
            }
        }
    }
}
