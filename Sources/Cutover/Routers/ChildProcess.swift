import Foundation
import Synchronization

/// A server the harness started: it waits for the JSON ready line on stdout, sends its
/// stderr to a log file, and is always stopped by its own PID (SIGTERM, then SIGKILL).
/// Every live child is listed so that Ctrl-C in the CLI can stop them all.
package final class ChildProcess: Sendable {
    package let pid: Int32
    /// The first line the child wrote on stdout.
    package let readyLine: String
    package let logFile: URL
    private let process: UncheckedBox<Process>

    /// PIDs of children still running, for `stopAll()` on a signal; a negative one is a
    /// process group (`ProcessGroup`), which `kill` then signals as a whole.
    private static let live = Mutex<Set<Int32>>([])

    /// Starts `executable` and waits up to `timeout` for its first stdout line; on failure
    /// the child is killed and the error quotes the end of its log. `input` is its stdin
    /// (a listening socket it inherits, say); nothing by default.
    package static func launch(
        _ executable: URL, _ arguments: [String], logFile: URL, input: FileHandle? = nil, timeout: Duration = .seconds(20)
    ) async throws -> ChildProcess {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        process.standardError = log
        process.standardInput = input ?? FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw LaunchError(executable.path, .cannotStart, detail: error.localizedDescription)
        }
        try? log.close()
        let pid = process.processIdentifier
        let started = ContinuousClock.now
        live.withLock { _ = $0.insert(pid) }
        let reader = output.fileHandleForReading
        let killer = Task {
            try await Task.sleep(for: timeout)
            kill(pid, SIGKILL)
        }
        let line = await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
            let thread = Thread {
                var bytes = Data()
                while !bytes.contains(UInt8(ascii: "\n")) {
                    let data = reader.availableData
                    if data.isEmpty { break }
                    bytes += data
                }
                let text = String(decoding: bytes, as: UTF8.self)
                continuation.resume(returning: text.contains("\n") ? String(text.prefix { $0 != "\n" }) : nil)
            }
            thread.start()
        }
        killer.cancel()
        let child = ChildProcess(pid: pid, readyLine: line ?? "", logFile: logFile, process: process)
        guard line != nil else {
            // Its stdout ended: it exited by itself, or the timeout's SIGKILL ended it.
            let timedOut = ContinuousClock.now - started >= timeout
            _ = await child.stop(grace: .seconds(1))
            let excerpt = LaunchError.excerpt(of: (try? String(contentsOf: logFile, encoding: .utf8)) ?? "")
            let cause: LaunchError.Cause =
                timedOut
                ? .notReady(timeout: timeout, log: logFile.path)
                : .exited(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal, log: logFile.path)
            throw LaunchError(executable.lastPathComponent, cause, detail: excerpt)
        }
        return child
    }

    private init(pid: Int32, readyLine: String, logFile: URL, process: Process) {
        self.pid = pid
        self.readyLine = readyLine
        self.logFile = logFile
        self.process = UncheckedBox(process)
    }

    package var isRunning: Bool { process.value.isRunning }

    /// SIGTERM, then SIGKILL after `grace`; returns the exit status.
    @discardableResult
    package func stop(grace: Duration = .seconds(15)) async -> Int32 {
        let process = self.process.value
        if process.isRunning { kill(pid, SIGTERM) }
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        Self.live.withLock { _ = $0.remove(pid) }
        return process.terminationStatus
    }

    /// SIGKILL, as a crash or the OOM killer would: no drain, no goodbye. Returns once it
    /// has exited.
    package func crash() async {
        let process = self.process.value
        if process.isRunning { kill(pid, SIGKILL) }
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(2))
        }
        Self.live.withLock { _ = $0.remove(pid) }
    }

    static func track(group: Int32) { live.withLock { _ = $0.insert(-group) } }
    static func untrack(group: Int32) { live.withLock { _ = $0.remove(-group) } }

    /// Kills every child still running (signal handlers call this before exiting).
    package static func stopAll() {
        for pid in live.withLock({ $0 }) { kill(pid, SIGKILL) }
    }
}

/// A reference that is only touched in ways `Process` itself makes safe (it is thread-safe
/// for `isRunning`, `terminationStatus` and `waitUntilExit`).
final class UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
