import Foundation

/// A profile's `start` command: `/bin/sh -c` in a process group of its own, its output in
/// a log file, stopped as a whole group (SIGTERM, then SIGKILL), so that nothing the
/// command started (a master and its workers, a wrapper script's child) outlives the run.
package final class ProcessGroup: Sendable {
    /// The shell's PID, which is also the group's ID.
    package let pid: Int32
    package let logFile: URL
    private let process: UncheckedBox<Process>

    /// Starts `command` in `folder`, with `path` put first on PATH. Foundation's `Process`
    /// makes the shell the leader of a new process group (its PID is the group's ID) and
    /// closes every other descriptor in the child, so no listening socket of the harness
    /// (a mock's, which an outage closes) leaks into the router's processes.
    package static func launch(_ command: String, in folder: URL, logFile: URL, path: [String] = []) throws -> ProcessGroup {
        let process = Process()
        // Every signal at its default in the command's processes: a disposition the harness
        // inherited or set (SIGHUP ignored under nohup; SIGINT, SIGTERM and SIGPIPE, which the
        // CLI reads or ignores) would pass on to them, and a shell cannot trap a signal that
        // was ignored when it started (a restarter's HUP and TERM would do nothing).
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["--default-signal", "/bin/sh", "-c", command]
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = (path + [environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"]).joined(separator: ":")
        process.environment = environment
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        defer { try? log.close() }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        // A child inherits the spawning thread's signal mask, and the harness's threads block
        // signals: unblocked here, so that the command's processes (a shell's `sleep`, nginx's
        // workers) die on the SIGTERM that stops them. The harness ignores SIGINT and SIGTERM
        // on every thread (its signal sources read them), so nothing reaches it meanwhile.
        var open = sigset_t()
        var saved = sigset_t()
        sigemptyset(&open)
        pthread_sigmask(SIG_SETMASK, &open, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        do {
            try process.run()
        } catch {
            throw LaunchError("'\(command)'", .cannotStart, detail: error.localizedDescription)
        }
        ChildProcess.track(group: process.processIdentifier)
        return ProcessGroup(process, logFile: logFile)
    }

    private init(_ process: Process, logFile: URL) {
        self.pid = process.processIdentifier
        self.logFile = logFile
        self.process = UncheckedBox(process)
    }

    /// An executable named by path (relative to `folder`), or a bare name found first in
    /// `path`, then on PATH, then in the sbin folders (nginx and haproxy live there).
    package static func locate(_ name: String, relativeTo folder: URL, path: [String] = []) -> URL {
        guard !name.contains("/") else { return URL(fileURLWithPath: name, relativeTo: folder).standardizedFileURL }
        let search =
            path + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/sbin", "/sbin"]
        let found = search.map { URL(fileURLWithPath: $0).appendingPathComponent(name) }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
        return found ?? URL(fileURLWithPath: name, relativeTo: folder)
    }

    /// Runs `command` to its end (or `timeout`, when its group is stopped) and returns its
    /// exit status (nil when it had to be stopped) and its output, which it wrote to `logFile`.
    package static func run(_ command: String, in folder: URL, logFile: URL, path: [String] = [], timeout: Duration) async -> (status: Int32?, output: String) {
        let launched: ProcessGroup
        do {
            launched = try launch(command, in: folder, logFile: logFile, path: path)
        } catch {
            return (nil, "\(error)")
        }
        let deadline = ContinuousClock.now + timeout
        while launched.exitStatus == nil, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(2))
        }
        let status = launched.exitStatus
        await launched.stop(grace: .seconds(1))
        return (status, ((try? String(contentsOf: logFile, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The shell's exit status once it ended, else nil.
    package var exitStatus: Int32? {
        process.value.isRunning ? nil : process.value.terminationStatus
    }

    /// Whether any process of the group is still alive (the shell, or what it started).
    package var isAlive: Bool {
        _ = exitStatus
        return kill(-pid, 0) == 0
    }

    /// The end of the command's output, for error messages.
    package var logTail: String {
        (try? String(contentsOf: logFile, encoding: .utf8)).map { String($0.suffix(600)) } ?? ""
    }

    /// Waits until the group ended; once `stopWhen` says so, stops it (SIGTERM, then
    /// SIGKILL after `grace`) instead.
    package func waitForEnd(stopWhen: () -> Bool, grace: Duration = .seconds(2)) async {
        while isAlive {
            if stopWhen() {
                await stop(grace: grace)
                return
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// SIGTERM to the whole group, SIGKILL after `grace`.
    package func stop(grace: Duration = .seconds(10)) async {
        if isAlive { kill(-pid, SIGTERM) }
        let deadline = ContinuousClock.now + grace
        while isAlive, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if isAlive {
            kill(-pid, SIGKILL)
            let hard = ContinuousClock.now + .seconds(2)
            while isAlive, ContinuousClock.now < hard { try? await Task.sleep(for: .milliseconds(10)) }
        }
        ChildProcess.untrack(group: pid)
    }

    /// SIGKILL to the whole group at once, as a crash of the host process would leave it:
    /// no drain, no goodbye. Returns once the group's leader has exited.
    package func crash() async {
        kill(-pid, SIGKILL)
        let deadline = ContinuousClock.now + .seconds(10)
        while isAlive, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(2)) }
        ChildProcess.untrack(group: pid)
    }

    /// The processes in the group, each as `pid@starttime` (so a reused pid is a new one),
    /// from /proc: what a restart must change.
    package var members: Set<String> {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var found = Set<String>()
        for candidate in entries.compactMap(Int32.init) {
            guard let stat = try? String(contentsOfFile: "/proc/\(candidate)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After the name: state, ppid, pgrp, … starttime is the 20th.
            if fields.count > 19, Int32(fields[2]) == pid { found.insert("\(candidate)@\(fields[19])") }
        }
        return found
    }

    /// PIDs whose parent is `pid` (the master's workers), from /proc.
    package static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { candidate in
            guard let stat = try? String(contentsOfFile: "/proc/\(candidate)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == pid
        }
    }
}
