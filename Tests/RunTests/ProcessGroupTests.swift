import Cutover
import CutoverTestSupport
import Foundation
import Testing

/// What a profile's `start` command's processes inherit from the harness.
@Suite("Process groups")
struct ProcessGroupTests {
    /// A router's processes start with every signal at its default, whatever the harness
    /// ignores (SIGHUP under nohup; SIGINT, SIGTERM and SIGPIPE under the CLI): a shell
    /// cannot trap a signal that was ignored when it started, so a restarter's HUP (Envoy's
    /// and Traefik's restart) did nothing when `cutover` ran under nohup.
    @Test func aRoutersProcessesTrapSignalsTheHarnessIgnores() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-signals-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let previous = signal(SIGHUP, SIG_IGN)
        defer { signal(SIGHUP, previous) }
        let group = try ProcessGroup.launch(
            "trap 'echo hup > got-hup' HUP; echo trapped > ready; while :; do sleep 0.05; done", in: folder, logFile: folder.appendingPathComponent("log"))
        try await waitFor { FileManager.default.fileExists(atPath: folder.appendingPathComponent("ready").path) }
        kill(group.pid, SIGHUP)
        try await waitFor { FileManager.default.fileExists(atPath: folder.appendingPathComponent("got-hup").path) }
        await group.stop(grace: .seconds(2))
        #expect(!group.isAlive)
    }

    /// A child that dies before its ready line is reported dead, with the crash's own words:
    /// a router killed by SIGILL a second after it started was once reported as "did not
    /// become ready within 20 seconds", quoting the end of its backtrace, which names no cause.
    @Test func aChildThatDiesBeforeItsReadyLineIsReportedDeadWithItsCrash() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = folder.appendingPathComponent("child.log")
        // The shape of Swift's backtracer: other threads first, the crashed one later, then
        // the images, long enough that the log's end is only the images.
        let backtrace = """
            echo 'starting' >&2
            echo '*** Program crashed: Illegal instruction at 0x00007f62384f9361 ***' >&2
            echo 'Thread 0 "router":' >&2
            echo '  0 sigsuspend + 65 in libc.so.6' >&2
            echo 'Thread 3 "NIO-SGLTN-1-#1" crashed:' >&2
            echo '  0 _assertionFailure(_:_:file:line:flags:) + 225 in libswiftCore.so' >&2
            echo '  1 BaseSocketChannel.readable0() + 650 in bluegreen-router' >&2
            for i in $(seq 1 60); do echo "0x0000$i-0x0001$i image$i /usr/lib/image$i.so" >&2; done
            kill -ILL $$
            """
        let started = ContinuousClock.now
        do {
            _ = try await ChildProcess.launch(URL(fileURLWithPath: "/bin/sh"), ["-c", backtrace], logFile: log, timeout: .seconds(20))
            Issue.record("a child that printed no ready line was taken as ready")
        } catch let error as LaunchError {
            #expect(error.cause == .exited(status: SIGILL, signalled: true, log: log.path))
            #expect(error.detail.hasPrefix("*** Program crashed: Illegal instruction"))
            #expect(error.detail.contains("Thread 3 \"NIO-SGLTN-1-#1\" crashed:\n  0 _assertionFailure"))
            #expect(error.detail.contains("BaseSocketChannel.readable0()"))
            #expect(!error.detail.contains("image60"))
            #expect(error.description.contains("was killed by signal 4 before it was ready"))
        }
        #expect(ContinuousClock.now - started < .seconds(10), "reported at once, not after the ready timeout")
    }
}
