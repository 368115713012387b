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
}
