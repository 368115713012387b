import Foundation

/// The `reference` profile: the `bluegreen-router` executable as a child process, driven
/// through its admin API. The harness holds the listening socket, as a supervisor would,
/// and hands it to each process (`--listen-fd 0`). `restart` is a hot restart: a new process
/// accepts from the same socket and reads the same state file, then the old one drains on
/// SIGTERM; connections waiting in the socket's queue meanwhile go to the new one.
package actor ReferenceRouter: RouterDriver {
    package nonisolated let profile = "reference"
    package let executable: URL
    private var child: ChildProcess?
    /// The listening socket every process inherits (nil where the host is not IPv4: each
    /// process then binds the port itself, with SO_REUSEPORT).
    private var socket: ListeningSocket?
    private var arguments: [String] = []
    private var workdir: URL?
    private var port = 0
    private var listenHost = "127.0.0.1"
    private var adminURL = ""
    private var generation = 0

    package nonisolated let relay: RelayTerms
    /// Whether the router keeps its weights in a state file (without one, a new process
    /// starts at blue 100 %: the known-bad router of a crash).
    private let keepsState: Bool

    package init(executable: URL, relay: RelayTerms = RelayTerms(), keepsState: Bool = true) {
        self.executable = executable
        self.relay = relay
        self.keepsState = keepsState
    }

    /// The router next to the running executable (`cutover` and `bluegreen-router` are
    /// built into one folder).
    package static func besideCurrentExecutable() -> URL {
        RunningExecutable.url.deletingLastPathComponent().appendingPathComponent("bluegreen-router")
    }

    /// Where a router build may be, in the order they are tried: `$CUTOVER_ROUTER_BINARY`,
    /// beside the running executable, then the builds in the Cutover checkout (for a
    /// package that depends on Cutover and runs it from its own `swift test`).
    package static func candidates() -> [URL] {
        var found: [URL] = []
        if let env = ProcessInfo.processInfo.environment["CUTOVER_ROUTER_BINARY"], !env.isEmpty { found.append(URL(fileURLWithPath: env)) }
        found.append(besideCurrentExecutable())
        return found + CutoverCheckout.builds(of: "bluegreen-router")
    }

    package func start(_ environment: RouterEnvironment) async throws -> String {
        let (blue, green, workdir) = (environment.blue, environment.green, environment.workdir)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw RouterError(.noExecutable, "no bluegreen-router executable at \(executable.path) (build it with `swift build`)")
        }
        self.workdir = workdir
        arguments = [
            "--blue", blue, "--green", green, "--admin", "127.0.0.1:0", "--health-interval", "1s", "--drain-timeout", "10s", "--log-level", "warning",
        ]
        if keepsState { arguments += ["--state-file", workdir.appendingPathComponent("router-state.json").path] }
        if let key = environment.upstreamAPIKey { arguments += ["--health-api-key", key] }
        listenHost = environment.listenHost
        socket = try? ListeningSocket(host: listenHost)
        let child: ChildProcess
        do {
            child = try await launch(listen: "\(listenHost):0")
        } catch {
            socket?.close()
            socket = nil
            throw error
        }
        self.child = child
        return "http://127.0.0.1:\(port)"
    }

    private func launch(listen: String) async throws -> ChildProcess {
        generation += 1
        let log = workdir!.appendingPathComponent("router-\(generation).log")
        let child =
            if let socket {
                try await ChildProcess.launch(executable, arguments + ["--listen-fd", "0"], logFile: log, input: socket.handle)
            } else {
                try await ChildProcess.launch(executable, arguments + ["--listen", listen], logFile: log)
            }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(child.readyLine.utf8))) as? [String: Any],
            let url = object["url"] as? String, let admin = object["admin"] as? String, let port = URLComponents(string: url)?.port
        else {
            await child.stop(grace: .seconds(2))
            throw RouterError(.notReady, "bluegreen-router's ready line is not {\"url\":…,\"admin\":…}: \(child.readyLine.prefix(200))")
        }
        self.port = port
        self.adminURL = admin
        return child
    }

    package func perform(_ action: RouterAction) async -> ActionOutcome {
        if action == .restart { return await restart() }
        if action == .crash { return await crash() }
        let result = await DeploymentClient(adminURL: adminURL).perform(action)
        return ActionOutcome(accepted: result.succeeded, greenWeight: result.status?.weights.green, detail: result.entries.map(\.text).joined(separator: "; "))
    }

    private func restart() async -> ActionOutcome {
        guard let old = child else { return ActionOutcome(accepted: false, greenWeight: nil, detail: "the router is not running") }
        do {
            let fresh = try await launch(listen: "\(listenHost):\(port)")
            child = fresh
            let status = await old.stop(grace: .seconds(15))
            let weight = await greenWeight()
            return ActionOutcome(accepted: true, greenWeight: weight, detail: "new process \(fresh.pid) serving; old \(old.pid) drained, exit \(status)")
        } catch {
            return ActionOutcome(accepted: false, greenWeight: await greenWeight(), detail: "restart failed: \(error)")
        }
    }

    /// SIGKILL with requests in flight, then a new process on the same port and state file,
    /// as its supervisor would start it.
    private func crash() async -> ActionOutcome {
        guard let old = child else { return ActionOutcome(accepted: false, greenWeight: nil, detail: "the router is not running") }
        let killed = ContinuousClock.now
        await old.crash()
        do {
            let fresh = try await launch(listen: "\(listenHost):\(port)")
            child = fresh
            let took = (ContinuousClock.now - killed).microseconds / 1_000
            return ActionOutcome(
                accepted: true, greenWeight: await greenWeight(), detail: "killed \(old.pid) (SIGKILL); new process \(fresh.pid) serving \(took) ms later")
        } catch {
            child = nil
            return ActionOutcome(accepted: false, greenWeight: nil, detail: "killed \(old.pid) (SIGKILL); starting it again failed: \(error)")
        }
    }

    /// The serving router process, for tests that do to it what a machine can (SIGSTOP).
    package var processID: Int32? { child?.pid }

    package func greenWeight() async -> Int? {
        await DeploymentClient(adminURL: adminURL).status().status?.weights.green
    }

    package func build() async -> RouterBuild {
        let version = await DeploymentClient(adminURL: adminURL).status().status?.version ?? "unknown"
        return RouterBuild(profile: profile, version: version, sha256: FileDigest.sha256(of: executable) ?? "", executable: executable.path)
    }

    package func stop() async {
        await child?.stop()
        child = nil
        socket?.close()
        socket = nil
    }
}
