import CurlHTTP
import Foundation

/// The `exec` and `http` profiles (SPEC §5): any router build, started by the profile's
/// `start` command in a process group of its own, driven by its shell commands or HTTP
/// requests, and always stopped with its whole group. A step's exit 0 (or 2xx) is the
/// router's "done"; anything else is its refusal, with its output as the detail.
package actor ScriptedRouter: RouterDriver {
    package nonisolated let profile: String
    private nonisolated let spec: RouterProfile
    private var group: ProcessGroup?
    private var values: [String: String] = [:]
    private var workdir: URL?
    private var steps = 0
    /// Times `start` has run (a crash runs it again).
    private var generation = 0
    private let client = CurlClient()

    /// Longest a step may run before it counts as refused.
    static let stepTimeout: Duration = .seconds(60)
    /// Longest the router may take to answer `ready` (or `url`).
    static let readyTimeout: Duration = .seconds(30)

    package nonisolated let relay: RelayTerms

    package init(_ profile: RouterProfile) {
        self.spec = profile
        self.profile = profile.name
        self.relay = profile.relay
    }

    package func start(_ environment: RouterEnvironment) async throws -> String {
        workdir = environment.workdir
        values = [
            "blue": environment.blue, "green": environment.green, "port": String(try Self.freePort()), "admin_port": String(try Self.freePort()),
            "workdir": environment.workdir.path,
            // A gateway needs some key for an upstream that asks for none.
            "upstream_api_key": environment.upstreamAPIKey ?? "none",
        ]
        for (name, url) in [("blue", environment.blue), ("green", environment.green)] {
            let address = RouterEnvironment.address(url)
            let colon = address.lastIndex(of: ":") ?? address.endIndex
            values["\(name)_host"] = String(address[..<colon])
            values["\(name)_port"] = colon < address.endIndex ? String(address[address.index(after: colon)...]) : "80"
        }
        // The run starts with everything on blue.
        try renderFiles(greenWeight: 0, into: values)
        return try await launch()
    }

    /// Runs `start` (when the profile has one) and waits until the router answers `ready`
    /// (or `url`); returns the URL load goes to.
    private func launch() async throws -> String {
        if let start = spec.start, let workdir {
            generation += 1
            let command = start.render(values)
            let launched = try ProcessGroup.launch(
                command, in: spec.folder, logFile: workdir.appendingPathComponent(generation == 1 ? "router.log" : "router-\(generation).log"),
                path: searchPath)
            group = launched
            values["pid"] = String(launched.pid)
        }
        let url = spec.url!.render(values)
        let probe = spec.ready?.render(values) ?? url
        let deadline = ContinuousClock.now + Self.readyTimeout
        while true {
            let response = await client.send(CurlRequest(url: probe, timeoutMs: 2_000, connectTimeoutMs: 500))
            // `ready` must answer 2xx; without one, any HTTP answer on `url` means it listens.
            if spec.ready != nil ? (200..<300).contains(response.status) : response.status > 0 { break }
            if let group, !group.isAlive {
                throw RouterError(
                    .notRunning, "\(spec.name): the start command ended (exit \(group.exitStatus ?? -1)) before \(probe) answered: \(group.logTail)")
            }
            guard ContinuousClock.now < deadline else {
                await stop()
                throw RouterError(.notReady, "\(spec.name): \(probe) did not answer \(spec.ready != nil ? "2xx " : "")within \(Self.readyTimeout)")
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return url
    }

    package func perform(_ action: RouterAction) async -> ActionOutcome {
        if action == .crash { return await crash() }
        guard let step = spec.actions[action.name] else {
            return ActionOutcome(accepted: false, greenWeight: await greenWeight(), detail: "profile \(spec.name) has no '\(action.name)' step")
        }
        if let gate = spec.gate, action.kind == .canary || action.kind == .promote {
            let result = await run(.command(gate), values)
            guard result.done else {
                return ActionOutcome(accepted: false, greenWeight: await greenWeight(), detail: "gate: " + String(result.output.suffix(600)))
            }
        }
        var stepValues = values
        if let percent = action.intendedGreenWeight {
            stepValues["percent"] = String(percent)
            stepValues["green_weight"] = String(percent)
            stepValues["blue_weight"] = String(100 - percent)
            do {
                try renderFiles(greenWeight: percent, into: values)
            } catch {
                return ActionOutcome(accepted: false, greenWeight: await greenWeight(), detail: "cannot render the configuration: \(error)")
            }
        }
        let before = action == .restart ? group?.members : nil
        let result = await run(step, stepValues)
        // A restart must show a new process serving: the step's exit alone is the script's word.
        if let before, result.done, let after = group?.members, after.isSubset(of: before) {
            return ActionOutcome(
                accepted: false, greenWeight: await greenWeight(),
                detail: "restart: no new process in the router's group (\(before.sorted().joined(separator: ", "))): the step did not restart it")
        }
        // The whole output is the evidence of a status step; an action's detail keeps its end.
        return ActionOutcome(accepted: result.done, greenWeight: await greenWeight(), detail: String(result.output.suffix(600)))
    }

    /// SIGKILL to the router's whole group, then `start` again with the configuration files
    /// as they are on disk (the last weights rendered), as a supervisor would.
    private func crash() async -> ActionOutcome {
        guard let old = group else {
            return ActionOutcome(
                accepted: false, greenWeight: await greenWeight(), detail: "profile \(spec.name) has no start command: the harness has no process to kill")
        }
        let killed = ContinuousClock.now
        await old.crash()
        do {
            _ = try await launch()
            let took = (ContinuousClock.now - killed).microseconds / 1_000
            return ActionOutcome(
                accepted: true, greenWeight: await greenWeight(),
                detail: "killed the router's group \(old.pid) (SIGKILL); started again (group \(group?.pid ?? 0)), serving \(took) ms later")
        } catch {
            return ActionOutcome(
                accepted: false, greenWeight: await greenWeight(), detail: "killed the router's group \(old.pid) (SIGKILL); starting it again failed: \(error)")
        }
    }

    package func greenWeight() async -> Int? {
        guard let status = spec.status else { return nil }
        let result = await run(status, values)
        return result.done ? Self.weight(in: result.output) : nil
    }

    package func build() async -> RouterBuild {
        var version = "unknown"
        if let step = spec.version {
            let result = await run(step, values)
            // A JSON status with a `version` key (as the reference router's), or the first line.
            let object = (try? JSONSerialization.jsonObject(with: Data(result.output.utf8))) as? [String: Any]
            if result.done, !result.output.isEmpty {
                version = String(((object?["version"] as? String) ?? String(result.output.prefix { $0 != "\n" })).prefix(80))
            }
        }
        let file = spec.executable.map { ProcessGroup.locate($0.render(values), relativeTo: spec.folder, path: searchPath) }
        return RouterBuild(profile: spec.name, version: version, sha256: file.flatMap { FileDigest.sha256(of: $0) } ?? "", executable: file?.path ?? "")
    }

    package func stop() async {
        if let stop = spec.stop, group?.isAlive ?? true {
            _ = await run(.command(stop), values)
        }
        await group?.stop()
        group = nil
    }

    /// Carries out one step: a command's exit 0, or a request's 2xx, is done.
    private func run(_ step: RouterProfile.Step, _ values: [String: String]) async -> (done: Bool, output: String) {
        switch step {
        case .command(let template):
            steps += 1
            let output = (workdir ?? FileManager.default.temporaryDirectory).appendingPathComponent("step-\(steps).log")
            let command = template.render(values)
            let (status, text) = await ProcessGroup.run(command, in: spec.folder, logFile: output, path: searchPath, timeout: Self.stepTimeout)
            guard let status else { return (false, "'\(command)' did not finish within \(Self.stepTimeout): \(text.suffix(300))") }
            return (status == 0, status == 0 ? text : "'\(command)' exited \(status): \(text.suffix(300))")
        case .request(let request):
            let response = await client.send(
                CurlRequest(
                    method: request.method, url: request.url.render(values),
                    headers: request.headers.map { ($0.name, $0.value.render(values)) } + (request.body != nil ? [("Content-Type", "application/json")] : []),
                    body: request.body.map { Array($0.render(values).utf8) }, timeoutMs: Int(Self.stepTimeout.components.seconds) * 1_000))
            let body = String(decoding: response.body, as: UTF8.self)
            if let error = response.error { return (false, "\(request.method) \(request.url.render(values)): \(error)") }
            let done = (200..<300).contains(response.status)
            return (done, done ? body : "HTTP \(response.status): \(body.prefix(600))")
        }
    }

    /// Green's weight in a status step's output: a bare number, or JSON with
    /// `weights.green`, `green_weight` or `green`.
    static func weight(in output: String) -> Int? {
        let text = output.trimmingCharacters(in: .whitespacesAndNewlines)
        if let number = Int(text), (0...100).contains(number) { return number }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else { return nil }
        let value = (object["weights"] as? [String: Any])?["green"] ?? object["green_weight"] ?? object["green"]
        return (value as? NSNumber)?.intValue
    }

    /// Renders the profile's configuration files for green at `greenWeight` percent.
    private func renderFiles(greenWeight: Int, into values: [String: String]) throws {
        guard let workdir else { return }
        var values = values
        values["green_weight"] = String(greenWeight)
        values["blue_weight"] = String(100 - greenWeight)
        for file in spec.files { try file.render(values, workdir: workdir) }
    }

    /// Steps find the profile's own folders (`path:`) first, then `cutover`,
    /// `bluegreen-router` and `mock-upstream` beside this executable.
    private nonisolated var searchPath: [String] { spec.searchPath + [RunningExecutable.url.deletingLastPathComponent().path] }

    package nonisolated var routerName: String { spec.routerName ?? spec.name }
    package nonisolated var gate: RouterGate {
        spec.hasHealthGate
            ? .router : .none(reason: spec.knownBehaviour[.healthGate] ?? "the profile says \(routerName) has none (health_gate: false)")
    }

    package nonisolated var loadHeaders: [(name: String, value: String)] { spec.loadHeaders }
    package nonisolated var offersHTTP2: Bool { spec.offersHTTP2 }

    package nonisolated func knownBehaviour(behind failure: CheckResult) -> String? { failure.id.flatMap { spec.knownBehaviour[$0] } }

    /// A free loopback port: bound, read and released.
    package static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw RouterError(.noResource, "cannot open a socket to find a free port") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw RouterError(.noResource, "cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
