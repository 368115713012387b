import CurlHTTP
import Foundation

/// The `haproxy` profile (SPEC §5): HAProxy in master-worker mode as the harness's child on
/// loopback, one backend with blue and green as servers, `balance hdr(X-Session-ID)` with
/// `hash-type consistent`. Weights change through the runtime API (sent by the master CLI to
/// the current worker); the stats socket hands the listeners to a new worker on a reload
/// (`expose-fd listeners`), so a restart is a seamless reload (SIGUSR2 to the master). Runtime weights survive it only
/// when the profile keeps server state (`show servers state` written to the
/// `server-state-file` first, `load-server-state-from-file` in the new configuration).
package actor HAProxyRouter: RouterDriver {
    /// What the profile file may set.
    package struct Settings: Sendable, Equatable {
        /// The haproxy executable: a path, or a name on PATH (also /usr/sbin).
        package var binary = "haproxy"
        package var threads = 1
        /// `consistent`: weights change at run time, moving only the sessions they must.
        /// `map-based` (HAProxy's default) is static: the runtime API refuses any weight
        /// but 0 % and 100 % of the configured one.
        package var hashType = HashType.consistent
        /// `checked`: a runtime API answer other than empty is a refused action. `ignored`
        /// (known-bad): the answer is dropped, as `echo … | socat` in a deploy script does.
        package var runtimeAnswers = RuntimeAnswers.checked
        /// Save the runtime weights before a reload and load them after it.
        package var serverState = true
        /// Health-check both servers (`option httpchk GET /v1/models`) and refuse a canary or
        /// promote while HAProxy has green down.
        package var healthGate = true
        /// HAProxy's `retry-on` conditions (`retries 3`); beyond `conn-failure` they replay requests.
        package var retryOn = "conn-failure"
        /// `option redispatch`: a retry may go to the other environment.
        package var redispatch = false

        package enum HashType: String, Sendable, CaseIterable { case consistent, mapBased = "map-based" }
        package enum RuntimeAnswers: String, Sendable, CaseIterable { case checked, ignored }

        package init() {}
    }

    package nonisolated let profile: String
    private let settings: Settings
    /// The haproxy executable, found once.
    private let binary: String
    private var group: ProcessGroup?
    private var environment: RouterEnvironment?
    private var port = 0
    /// Green's weight as last asked for. haproxy.cfg always has the start's weights (green
    /// at 0 %): later ones live only in HAProxy, and in its server state when that is kept.
    private var weight = 0
    private var reloads = 0
    /// Masters started so far (each logs to its own file).
    private var generation = 0
    private let client = CurlClient()

    static let backend = "environments"

    /// `folder`: where a relative `binary` is found (the profile file's folder).
    package nonisolated let relay: RelayTerms

    package init(name: String, settings: Settings, folder: URL, relay: RelayTerms = RelayTerms()) {
        self.relay = relay
        self.profile = name
        self.settings = settings
        binary = ProcessGroup.locate(settings.binary, relativeTo: folder).path
    }

    private var folder: URL { environment!.workdir.appendingPathComponent("haproxy") }
    private var configFile: URL { folder.appendingPathComponent("haproxy.cfg") }
    private var stateFile: URL { folder.appendingPathComponent("server-state") }
    /// The master CLI (`-S`): it outlives reloads and passes a command to the current
    /// worker (`@1`), which the stats socket cannot promise while an old worker drains.
    private var master: HAProxyRuntimeAPI { HAProxyRuntimeAPI(socket: folder.appendingPathComponent("master.sock").path) }

    /// A runtime API command for the current worker.
    private func worker(_ command: String) async throws -> String { try await master.send("@1 \(command)") }

    package func start(_ environment: RouterEnvironment) async throws -> String {
        self.environment = environment
        // Every run starts with everything on blue, also when one driver runs a whole
        // certification: the last suite's weights are not this one's.
        weight = 0
        port = try ScriptedRouter.freePort()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // The state file must exist for the first start to load it quietly.
        if settings.serverState { _ = FileManager.default.createFile(atPath: stateFile.path, contents: nil) }
        if let problem = try await render() { throw RouterError(.configurationRefused, "haproxy refused its configuration: \(problem)") }
        try await launch()
        return "http://127.0.0.1:\(port)"
    }

    /// Starts the master and its worker from haproxy.cfg as it is on disk, and waits until
    /// it serves and answers the runtime API.
    private func launch() async throws {
        generation += 1
        let launched = try ProcessGroup.launch(
            "exec \(binary) -W -db -S \(folder.appendingPathComponent("master.sock").path) -f \(configFile.path)", in: folder,
            logFile: folder.appendingPathComponent("haproxy-\(generation).out"))
        group = launched
        let deadline = ContinuousClock.now + .seconds(20)
        func serving() async -> Bool {
            guard await client.send(CurlRequest(url: "http://127.0.0.1:\(port)/", timeoutMs: 1_000, connectTimeoutMs: 300)).status != 0 else { return false }
            return (try? await worker("show info")) != nil
        }
        while !(await serving()) {
            guard launched.isAlive, ContinuousClock.now < deadline else {
                await launched.stop(grace: .seconds(1))
                group = nil
                throw RouterError(.notReady, "haproxy did not start serving on 127.0.0.1:\(port): \(launched.logTail)")
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// SIGKILL to the master and its worker, then HAProxy started again from what is on
    /// disk, as a supervisor would: haproxy.cfg, and the server state last saved (at a
    /// reload), so runtime weights set since are HAProxy's to lose.
    private func crash() async -> ActionOutcome {
        guard let old = group else { return ActionOutcome(accepted: false, greenWeight: nil, detail: "haproxy is not running") }
        let killed = ContinuousClock.now
        await old.crash()
        do {
            try await launch()
            let took = (ContinuousClock.now - killed).microseconds / 1_000
            let now = await greenWeight()
            weight = now ?? 0
            return ActionOutcome(
                accepted: true, greenWeight: now,
                detail:
                    "killed haproxy's group \(old.pid) (SIGKILL); master \(group?.pid ?? 0) serving \(took) ms later, green at \(now.map { "\($0) %" } ?? "an unknown weight")"
            )
        } catch {
            return ActionOutcome(accepted: false, greenWeight: nil, detail: "killed haproxy's group \(old.pid) (SIGKILL); starting it again failed: \(error)")
        }
    }

    package func perform(_ action: RouterAction) async -> ActionOutcome {
        let target: Int
        switch action {
        case .validate:
            let healthy = settings.healthGate ? await greenCheck() : await environment?.greenHealth(client) ?? (ok: false, detail: "not started")
            return ActionOutcome(accepted: healthy.ok, greenWeight: await greenWeight(), detail: healthy.detail)
        case .canary(let percent): target = percent
        case .promote: target = 100
        case .rollback: target = 0
        case .crash:
            return await crash()
        case .restart:
            do {
                let detail = try await reload()
                return ActionOutcome(accepted: true, greenWeight: await greenWeight(), detail: detail)
            } catch {
                return ActionOutcome(accepted: false, greenWeight: await greenWeight(), detail: "\(error)")
            }
        }
        if settings.healthGate, target > weight {
            let healthy = await greenCheck()
            guard healthy.ok else {
                return ActionOutcome(accepted: false, greenWeight: await greenWeight(), detail: "refused: green is unhealthy (\(healthy.detail))")
            }
        }
        let before = weight
        do {
            let detail = try await setWeights(green: target)
            weight = target
            return ActionOutcome(accepted: true, greenWeight: await greenWeight(), detail: "green \(before) % → \(target) %: \(detail)")
        } catch {
            return ActionOutcome(accepted: false, greenWeight: await greenWeight(), detail: "\(error)")
        }
    }

    /// `set weight` for both servers, the one that gains first, so that the backend never
    /// has no weight at all. HAProxy answers a done `set weight` with nothing; anything
    /// else is a refusal, which `runtime_answers: ignored` lets pass as `socat` would.
    private func setWeights(green: Int) async throws -> String {
        var steps = [("green", green), ("blue", 100 - green)]
        if green < weight { steps.reverse() }
        var ignored: [String] = []
        for (server, value) in steps {
            let command = "set weight \(Self.backend)/\(server) \(value)"
            let answer = try await worker(command)
            guard !answer.isEmpty else { continue }
            guard settings.runtimeAnswers == .ignored else { throw RouterError(.commandRefused, "HAProxy refused '\(command)': \(answer)") }
            if !ignored.contains(answer) { ignored.append(answer) }
        }
        if !ignored.isEmpty { return "HAProxy answered (ignored): \(ignored.joined(separator: " "))" }
        return "set weight over the runtime API (blue \(100 - green), green \(green))"
    }

    /// A seamless reload: the server state saved (when kept), the configuration re-rendered
    /// and checked, SIGUSR2 to the master; returns once the new worker answers the runtime API.
    private func reload() async throws -> String {
        guard let master = group?.pid, group?.isAlive == true else { throw RouterError(.notRunning, "haproxy is not running") }
        if settings.serverState {
            let state = try await worker("show servers state \(Self.backend)")
            try (state + "\n").write(to: stateFile, atomically: true, encoding: .utf8)
        }
        if let problem = try await render() { throw RouterError(.configurationRefused, "haproxy -c refused the new configuration: \(problem)") }
        let old = Set(ProcessGroup.children(of: master))
        kill(master, SIGUSR2)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let fresh = Set(ProcessGroup.children(of: master)).subtracting(old)
            if let info = try? await worker("show info"), let pid = Self.field("Pid", in: info).flatMap(Int32.init), fresh.contains(pid) {
                reloads += 1
                return
                    "haproxy reloaded (SIGUSR2 to master \(master)): worker \(pid) serving, \(settings.serverState ? "server state kept" : "no server state kept")"
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        throw RouterError(.notReady, "haproxy's new worker did not answer within 10 s of the reload: \(group?.logTail ?? "")")
    }

    /// Green's health as HAProxy's own checks have it: `srv_op_state` in `show servers state`
    /// (2 is running; 0 is stopped, which a failed check makes it).
    private func greenCheck() async -> (ok: Bool, detail: String) {
        guard let state = try? await worker("show servers state \(Self.backend)") else { return (false, "HAProxy's runtime API did not answer") }
        let lines = state.split(separator: "\n")
        guard let header = lines.first(where: { $0.hasPrefix("# ") })?.dropFirst(2).split(separator: " "),
            let nameAt = header.firstIndex(of: "srv_name"), let stateAt = header.firstIndex(of: "srv_op_state"),
            let green = lines.map({ $0.split(separator: " ") }).first(where: { $0.count > max(nameAt, stateAt) && $0[nameAt] == "green" })
        else { return (false, "HAProxy's server state names no green server: \(state.prefix(300))") }
        let op = green[stateAt]
        return op == "2"
            ? (true, "HAProxy's health check has green up (srv_op_state 2)")
            : (false, "HAProxy's health check has green down (srv_op_state \(op))")
    }

    /// Green's share of the two servers' weights, as HAProxy's runtime API reports them.
    package func greenWeight() async -> Int? {
        guard let green = try? await worker("get weight \(Self.backend)/green"), let blue = try? await worker("get weight \(Self.backend)/blue"),
            let g = green.split(separator: " ").first.flatMap({ Int($0) }), let b = blue.split(separator: " ").first.flatMap({ Int($0) }), g + b > 0
        else { return nil }
        return Int((Double(g) * 100 / Double(g + b)).rounded())
    }

    package func build() async -> RouterBuild { await RouterBuild.probe(binary, profile: profile, versionAfter: "version ") }

    package func stop() async {
        await group?.stop(grace: .seconds(10))
        group = nil
    }

    /// Writes haproxy.cfg for the current weight and checks it (`haproxy -c`); returns HAProxy's complaint, if any.
    private func render() async throws -> String? {
        guard let environment else { return "not started" }
        try config(environment).write(to: configFile, atomically: true, encoding: .utf8)
        let (status, output) = await ProcessGroup.run(
            "exec \(binary) -c -q -f \(configFile.path)", in: folder, logFile: folder.appendingPathComponent("check.out"), timeout: .seconds(20))
        return status == 0 ? nil : output
    }

    /// HAProxy's own health checks of both servers, when it gates: `GET /v1/models` every
    /// 500 ms, down after two failures, up after two answers.
    private func healthChecks(_ environment: RouterEnvironment) -> String {
        guard settings.healthGate else { return "" }
        let key = environment.upstreamAPIKey.map { #" hdr Authorization "Bearer \#($0)""# } ?? ""
        return """
                option httpchk
                http-check send meth GET uri /v1/models\(key)
                http-check expect status 200
                default-server inter 500ms fall 2 rise 2

            """
    }

    /// The configuration: blue at 100, green at 0, as at the start.
    func config(_ environment: RouterEnvironment) -> String {
        let state = settings.serverState
        let check = settings.healthGate ? " check" : ""
        return """
            # Rendered by cutover for profile \(profile): green at 0 % (later weights are set over the runtime API).
            global
                master-worker
                nbthread \(settings.threads)
                maxconn 8000
                pidfile \(folder.path)/haproxy.pid
                stats socket \(folder.path)/admin.sock mode 600 level admin expose-fd listeners
            \(state ? "    server-state-file \(stateFile.path)\n" : "")
            defaults
                mode http
                timeout connect 5s
                timeout client 300s
                timeout server 300s
                timeout http-request 30s
                timeout http-keep-alive 60s
                retries 3
                retry-on \(settings.retryOn)
            \(settings.redispatch ? "    option redispatch\n" : "")\(state ? "    load-server-state-from-file global\n" : "")
            frontend router
                bind 127.0.0.1:\(port)
                default_backend \(Self.backend)

            backend \(Self.backend)
                balance hdr(X-Session-ID)
                hash-type \(settings.hashType.rawValue)
                http-response set-header X-Environment %[srv_name]
            \(healthChecks(environment))    server blue \(RouterEnvironment.address(environment.blue)) weight 100\(check)
                server green \(RouterEnvironment.address(environment.green)) weight 0\(check)

            """
    }

    /// `Name: value` from `show info`.
    static func field(_ name: String, in info: String) -> String? {
        info.split(separator: "\n").first { $0.hasPrefix("\(name): ") }.map { String($0.dropFirst(name.count + 2)) }
    }

    /// An HTTP frontend's plain `bind` takes HTTP/1.1 and HTTP/2 with prior knowledge alike:
    /// HAProxy sees the HTTP/2 preface and switches (tried here with 2.6.12).
    package nonisolated var offersHTTP2: Bool { true }

    /// With `health_gate: true` HAProxy's own checks decide; without, nothing gates.
    package nonisolated var gate: RouterGate {
        settings.healthGate ? .router : .none(reason: "health_gate: false: HAProxy's health checks are off, and nothing refuses a canary")
    }

    /// HAProxy's documented behaviours behind the failures the certification set finds.
    /// HAProxy's answer to a server that fails on a request that was not the first of the
    /// client's keep-alive connection (http_ana.c, abort_keep_alive).
    static let silentClose =
        "When a server fails (a reset, a close, a timeout) on a request that was not the first on the client's keep-alive connection, HAProxy closes the client connection without an answer so that the client sends it again (http_ana.c, abort_keep_alive): a client that does (libcurl; the OpenAI SDKs retry connection errors) has a request the server had already received executed twice"

    /// Only a crash leaves the worker's runtime weights behind: the state file is written
    /// before a reload, never after each change.
    static let crashLosesWeights =
        "a crash loses the weights set over the runtime API since the last reload (server-state-file is written only before a reload): HAProxy starts again from haproxy.cfg; a deploy script that writes `show servers state` to the file after every `set weight` keeps them"

    package nonisolated func knownBehaviour(behind failure: CheckResult) -> String? {
        guard let check = failure.id else { return nil }
        if !settings.serverState, [.stateSurvivesRestart, .stickiness, .splitAccuracy].contains(check) {
            return
                "runtime weights live in the running worker: a reload reads haproxy.cfg again and loses them unless server-state-file and load-server-state-from-file carry them over"
        }
        if settings.hashType == .mapBased, [.splitAccuracy, .monotoneMovement, .actionsHonoured, .convergenceTime].contains(check) {
            return "balance hdr() without hash-type consistent is static: the runtime API refuses weights other than 0 % and 100 %"
        }
        if settings.redispatch, [.stickiness, .noDuplicateExecution].contains(check) {
            return "option redispatch sends a retried request to another server, breaking stickiness"
        }
        switch check {
        case .zeroDropped:
            let checks =
                settings.healthGate
                ? "HAProxy's health checks (every 500 ms, down after 2 failures) take a failed server out only after about a second, and until then"
                : "without health checks (check) HAProxy keeps sending to a failed server, and"
            return
                "\(checks) retries (retry-on \(settings.retryOn)) stay on the same server unless option redispatch is set; a reload's soft-stop also closes the old worker's idle client connections. \(Self.silentClose)"
        case .splitAccuracy:
            return
                "hash-type consistent places points on a ring in proportion to each server's weight: at low weights a server's share of sessions can be off its weight; and \(Self.crashLosesWeights)"
        case .stickiness:
            return
                "a server its health checks take out (down after 2 failed checks 500 ms apart, up after 2 good ones: one answering 500 to half of them goes down and up) has its sessions sent to the other server and back; and \(Self.crashLosesWeights)"
        case .noDuplicateExecution:
            return settings.retryOn == "conn-failure" ? Self.silentClose : "retry-on \(settings.retryOn) resends a request the server already received"
        case .stateSurvivesRestart:
            return Self.crashLosesWeights
        default:
            return nil
        }
    }
}
