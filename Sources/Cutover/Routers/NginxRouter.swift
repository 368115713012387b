import CurlHTTP
import Foundation

/// The `nginx` profile (SPEC §5): nginx as the harness's child on loopback, blue and green
/// as upstream groups with keepalive, `split_clients` on the session key choosing between
/// them. A weight change re-renders nginx.conf, checks it (`nginx -t`), and reloads it
/// gracefully (SIGHUP to the master) — or, for `deploy: restart`, stops and starts nginx,
/// which is how a careless deploy cuts connections. Everything nginx writes (pid, logs,
/// temp files) stays in the run's folder, and its whole process group is always stopped.
package actor NginxRouter: RouterDriver {
    /// What the profile file may set.
    package struct Settings: Sendable, Equatable {
        /// The nginx executable: a path, or a name on PATH (also /usr/sbin).
        package var binary = "nginx"
        package var workers = 1
        /// Idle keepalive connections each worker keeps per upstream group (0: none).
        package var keepalive = 32
        package var keepaliveTimeout: Duration = .seconds(60)
        /// The key `split_clients` hashes: the session header, or (a known-bad set-up) the client address.
        package var splitOn = SplitKey.session
        package var deploy = Deploy.reload
        /// Refuse a canary or promote while green does not answer `GET /v1/models` 2xx.
        package var healthGate = true
        package var proxyNextUpstream = "error timeout"
        /// Each group lists the other environment as a `backup` server, so that
        /// `proxy_next_upstream` can pass a failed request to it.
        package var failover = false
        package var workerShutdownTimeout: Duration?

        package enum SplitKey: String, Sendable, CaseIterable { case session, clientAddress = "client_address" }
        package enum Deploy: String, Sendable, CaseIterable { case reload, restart }

        package init() {}
    }

    package nonisolated let profile: String
    private let settings: Settings
    /// The nginx executable, found once.
    private let binary: String
    private var group: ProcessGroup?
    private var environment: RouterEnvironment?
    private var port = 0
    private var weight = 0
    private var generation = 0
    private let client = CurlClient()

    /// `folder`: where a relative `binary` is found (the profile file's folder).
    package nonisolated let relay: RelayTerms

    package init(name: String, settings: Settings, folder: URL, relay: RelayTerms = RelayTerms()) {
        self.relay = relay
        self.profile = name
        self.settings = settings
        binary = ProcessGroup.locate(settings.binary, relativeTo: folder).path
    }

    /// nginx's prefix, configuration and early error log, for every command that starts or checks it.
    private var paths: String { "-p \(folder.path)/ -c \(configFile.path) -e \(folder.path)/logs/error.log" }

    private var folder: URL { environment!.workdir.appendingPathComponent("nginx") }
    private var configFile: URL { folder.appendingPathComponent("nginx.conf") }

    package func start(_ environment: RouterEnvironment) async throws -> String {
        self.environment = environment
        // Every run starts with everything on blue, also when one driver runs a whole
        // certification: the last suite's weights are not this one's.
        weight = 0
        port = try ScriptedRouter.freePort()
        for sub in ["", "temp", "logs"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        // Workers run as `nobody` when nginx starts as root: they must reach their temp folder.
        for path in [environment.workdir.path, folder.path, folder.appendingPathComponent("temp").path] { chmod(path, 0o777) }
        try await launch()
        return "http://127.0.0.1:\(port)"
    }

    /// Starts a master (and its workers) and waits until it serves: until the port answers,
    /// or, beside a running master (`alongside`), until the new master's workers run.
    private func launch(alongside running: ProcessGroup? = nil) async throws {
        generation += 1
        if let problem = try await render() { throw RouterError(.configurationRefused, "nginx refused its configuration: \(problem)") }
        let launched = try ProcessGroup.launch(
            "exec \(binary) \(paths)", in: folder,
            logFile: folder.appendingPathComponent("logs/nginx-\(generation).out"))
        group = launched
        let deadline = ContinuousClock.now + .seconds(20)
        func serving() async -> Bool {
            if running != nil { return ProcessGroup.children(of: launched.pid).count >= settings.workers }
            return await client.send(CurlRequest(url: "http://127.0.0.1:\(port)/", timeoutMs: 1_000, connectTimeoutMs: 300)).status != 0
        }
        while !(await serving()) {
            guard launched.isAlive, ContinuousClock.now < deadline else {
                await launched.stop(grace: .seconds(1))
                group = running
                throw RouterError(.notReady, "nginx did not start serving on 127.0.0.1:\(port): \(errorLogTail) \(launched.logTail)")
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// A hot restart: a second master binds the same port (`reuseport`), then the old one
    /// shuts down gracefully (SIGQUIT: it stops accepting, finishes what it serves, closes
    /// idle keep-alive connections). nginx's own binary upgrade (SIGUSR2) is refused by a
    /// master that is not daemonized, as the harness runs it.
    private func hotRestart() async throws -> ActionOutcome {
        guard let old = group else { throw RouterError(.notRunning, "nginx is not running") }
        try await launch(alongside: old)
        kill(old.pid, SIGQUIT)
        let deadline = ContinuousClock.now + .seconds(15)
        while old.isAlive, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        let drained = !old.isAlive
        await old.stop(grace: .seconds(1))
        return ActionOutcome(
            accepted: true, greenWeight: weight,
            detail: "new nginx master \(group?.pid ?? 0) serving; old master \(old.pid) \(drained ? "drained" : "stopped after 15 s") (green at \(weight) %)")
    }

    package func perform(_ action: RouterAction) async -> ActionOutcome {
        let target: Int
        switch action {
        case .validate:
            let healthy = await environment?.greenHealth(client) ?? (ok: false, detail: "not started")
            return ActionOutcome(accepted: healthy.ok, greenWeight: weight, detail: healthy.detail)
        case .canary(let percent): target = percent
        case .promote: target = 100
        case .rollback: target = 0
        case .restart: target = weight
        case .crash: return await crash()
        }
        if settings.healthGate, target > weight, action != .restart {
            let healthy = await environment?.greenHealth(client) ?? (ok: false, detail: "not started")
            guard healthy.ok else { return ActionOutcome(accepted: false, greenWeight: weight, detail: "refused: green is unhealthy (\(healthy.detail))") }
        }
        let before = weight
        weight = target
        do {
            if action == .restart, settings.deploy == .reload { return try await hotRestart() }
            if action == .restart || settings.deploy == .restart {
                await group?.stop(grace: .seconds(5))
                try await launch()
                return ActionOutcome(accepted: true, greenWeight: weight, detail: "nginx stopped and started with green at \(weight) %")
            }
            return try await reload(before: before)
        } catch {
            weight = before
            _ = try? await render()
            return ActionOutcome(accepted: false, greenWeight: weight, detail: "\(error)")
        }
    }

    /// SIGKILL to the master and its workers, then nginx started again from its
    /// configuration on disk (the last weight rendered), as a supervisor would.
    private func crash() async -> ActionOutcome {
        guard let old = group else { return ActionOutcome(accepted: false, greenWeight: weight, detail: "nginx is not running") }
        let killed = ContinuousClock.now
        await old.crash()
        do {
            try await launch()
            let took = (ContinuousClock.now - killed).microseconds / 1_000
            return ActionOutcome(
                accepted: true, greenWeight: weight,
                detail: "killed nginx's group \(old.pid) (SIGKILL); master \(group?.pid ?? 0) serving \(took) ms later (green at \(weight) %)")
        } catch {
            return ActionOutcome(accepted: false, greenWeight: weight, detail: "killed nginx's group \(old.pid) (SIGKILL); starting it again failed: \(error)")
        }
    }

    /// Re-renders, checks, and SIGHUPs the master; returns once new workers run.
    private func reload(before: Int) async throws -> ActionOutcome {
        if let problem = try await render() { throw RouterError(.configurationRefused, "nginx -t refused the new configuration: \(problem)") }
        guard let master = group?.pid else { throw RouterError(.notRunning, "nginx is not running") }
        let old = Set(ProcessGroup.children(of: master))
        kill(master, SIGHUP)
        let deadline = ContinuousClock.now + .seconds(5)
        while Set(ProcessGroup.children(of: master)).subtracting(old).count < settings.workers, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(2))
        }
        let fresh = Set(ProcessGroup.children(of: master)).subtracting(old).count
        guard fresh >= settings.workers else { throw RouterError(.notReady, "nginx started no new worker within 5 s of the reload: \(errorLogTail)") }
        return ActionOutcome(accepted: true, greenWeight: weight, detail: "nginx reloaded (green \(before) % → \(weight) %): \(fresh) new workers")
    }

    /// Green's weight as this driver last rendered it: nginx has no API to ask.
    package func greenWeight() async -> Int? { weight }

    package nonisolated var weightSource: WeightSource {
        .driver(reason: "open-source nginx has no API that reads split_clients back; the weight is the one this driver last wrote into nginx.conf")
    }

    package func build() async -> RouterBuild { await RouterBuild.probe(binary, profile: profile, versionAfter: "nginx/") }

    package func stop() async {
        await group?.stop(grace: .seconds(10))
        group = nil
    }

    /// Writes nginx.conf for the current weight and checks it; returns nginx's complaint, if any.
    private func render() async throws -> String? {
        guard let environment else { return "not started" }
        try config(environment).write(to: configFile, atomically: true, encoding: .utf8)
        let log = folder.appendingPathComponent("logs/test.out")
        let (status, output) = await ProcessGroup.run(
            "exec \(binary) -t -q \(paths)", in: folder, logFile: log,
            timeout: .seconds(20))
        return status == 0 ? nil : output
    }

    /// The configuration for green at `weight` %.
    func config(_ environment: RouterEnvironment) -> String {
        let key = settings.splitOn == .session ? "${http_x_session_id}" : "${remote_addr}"
        let split: String
        switch weight {
        case 0: split = "* blue;"
        case 100: split = "* green;"
        default: split = "\(weight)% green; * blue;"
        }
        func upstream(_ name: String, _ url: String, other: String) -> String {
            let pool = settings.keepalive > 0 ? "keepalive \(settings.keepalive); keepalive_timeout \(Self.milliseconds(settings.keepaliveTimeout));" : ""
            let backup = settings.failover ? "server \(RouterEnvironment.address(other)) max_fails=0 backup; " : ""
            return "    upstream \(name) { server \(RouterEnvironment.address(url)) max_fails=0; \(backup)\(pool) }\n"
        }
        let temp = folder.appendingPathComponent("temp").path
        return """
            # Rendered by cutover for profile \(profile): green at \(weight) %.
            worker_processes \(settings.workers);
            daemon off;
            master_process on;
            pid \(folder.path)/nginx-\(generation).pid;
            error_log \(folder.path)/logs/error.log warn;
            \(settings.workerShutdownTimeout.map { "worker_shutdown_timeout \(Self.milliseconds($0));" } ?? "")
            events { worker_connections 8192; }
            http {
                access_log off;
                client_body_temp_path \(temp)/body;
                proxy_temp_path \(temp)/proxy;
                fastcgi_temp_path \(temp)/fastcgi;
                uwsgi_temp_path \(temp)/uwsgi;
                scgi_temp_path \(temp)/scgi;
                client_max_body_size 64m;
                keepalive_requests 100000;
            \(upstream("blue", environment.blue, other: environment.green))\(upstream("green", environment.green, other: environment.blue))
                split_clients "\(key)" $environment { \(split) }
                server {
                    listen 127.0.0.1:\(port) reuseport;
                    location / {
                        proxy_pass http://$environment;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_buffering off;
                        proxy_read_timeout 300s;
                        proxy_next_upstream \(settings.proxyNextUpstream);
                        add_header X-Environment $environment always;
                    }
                }
            }

            """
    }

    private var errorLogTail: String {
        (try? String(contentsOf: folder.appendingPathComponent("logs/error.log"), encoding: .utf8)).map { String($0.suffix(400)) } ?? ""
    }

    /// A duration as nginx writes it.
    static func milliseconds(_ duration: Duration) -> String { "\(duration.microseconds / 1_000)ms" }

    /// Open-source nginx has no active health checks: with `health_gate: true` the driver asks
    /// green itself before a canary, which certifies the harness, not nginx.
    package nonisolated var gate: RouterGate {
        .none(
            reason: settings.healthGate
                ? "open-source nginx has no active health checks; the refusals came from Cutover's driver, which asked green itself before each canary (health_gate: true)"
                : "open-source nginx has no active health checks, and the profile asks the driver for none (health_gate: false)")
    }

    /// nginx's documented behaviours behind the failures the certification set finds.
    package nonisolated func knownBehaviour(behind failure: CheckResult) -> String? {
        switch failure.id {
        case .stickiness, .zeroWeightIsolation, .rollbackTime, .stateSurvivesRestart:
            return settings.deploy == .restart
                ? nil
                : "a reload (SIGHUP) is not an atomic switch: old workers finish the requests on the keep-alive connections they hold, under the old split_clients, until they exit"
        case .zeroDropped:
            if settings.deploy == .restart { return "deploy: restart stops nginx and starts it again: connections are refused or reset in between" }
            return
                "nginx has no active health checks and one server per environment: a request to a failed environment gets 502 unless proxy_next_upstream can pass it to a backup (failover); before 1.27.4 a reload also closes idle keep-alive connections, resetting a request sent on one at that moment"
        case .noDuplicateExecution:
            return settings.proxyNextUpstream.contains("non_idempotent")
                ? "proxy_next_upstream non_idempotent passes a POST that failed after it was sent to the next server, which runs it again" : nil
        case .splitAccuracy, .monotoneMovement:
            return settings.splitOn == .clientAddress
                ? "split_clients on $remote_addr: every client behind one address lands in one bucket"
                : "split_clients buckets are cumulative percentages in the order written: a reorder or a changed key moves sessions"
        case .streamIntegrity:
            let race =
                "before 1.27.4 a reload closes idle keep-alive client connections, so a stream requested on one at that moment gets no answer (a client may not send a POST again, RFC 9112 §9.3.1)"
            return settings.workerShutdownTimeout != nil
                ? race + "; and worker_shutdown_timeout closes the streams still open on old workers after a reload" : race
        default:
            return nil
        }
    }
}
