import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore
import Testing

/// The `bluegreen-router` and `cutover deploy` executables.
@Suite("Router and deploy CLIs", .serialized, .timeLimit(.minutes(10)), .sharesTheMachine)
struct RouterCLITests {
    @Test func routerDrainsAStreamOnSIGTERMAndExitsZero() async throws {
        let blue = MockUpstream(configuration: MockConfiguration(name: "blue"))
        let green = MockUpstream(configuration: MockConfiguration(name: "green"))
        try await blue.start()
        try await green.start()
        defer {
            Task {
                await blue.shutdown(); await green.shutdown()
            }
        }
        try await blue.setFaults(faults("[{id: pace, kind: stream-pace, ttft_ms: 50, tokens_per_second: 20}]"))

        let (process, line) = try Executable.start(
            "bluegreen-router", ["--blue", blue.url, "--green", green.url, "--health-interval", "0s", "--drain-timeout", "10s"])
        defer { if process.isRunning { process.terminate() } }
        let ready = try #require(try JSONSerialization.jsonObject(with: line) as? [String: String])
        #expect(ready["event"] == "ready" && ready["name"] == "router")
        let url = try #require(ready["url"])

        async let stream = CurlClient().post(url + "/v1/chat/completions", json: chat(maxTokens: 20, stream: true))
        try await waitFor { blue.ledger.entries().contains { $0.stream } }
        process.terminate()
        let response = await stream
        #expect(response.error == nil && response.events.last?.isDone == true)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }

    @Test(arguments: [
        (["--green", "http://127.0.0.1:1"], "--blue"),
        (["--blue", "ftp://x", "--green", "http://127.0.0.1:1"], "--blue"),
        (["--blue", "http://127.0.0.1:1", "--green", "http://127.0.0.1:99999"], "--green"),
        (["--blue", "http://127.0.0.1:1", "--green", "http://127.0.0.1:2", "--listen", "nowhere"], "--listen"),
        (["--blue", "http://127.0.0.1:1", "--green", "http://127.0.0.1:2", "--admin", "0.0.0.0:0"], "loopback"),
        (["--blue", "http://127.0.0.1:1", "--green", "http://127.0.0.1:2", "--drain-timeout", "soon"], "--drain-timeout"),
        (["--blue", "http://127.0.0.1:1", "--green", "http://127.0.0.1:2", "--event-loops", "0"], "--event-loops"),
        // Its stdin (the test's) is no listening socket; nor is a descriptor it does not have.
        (["--blue", "http://127.0.0.1:1", "--green", "http://127.0.0.1:2", "--listen-fd", "0"], "not a listening TCP socket"),
        (["--blue", "http://127.0.0.1:1", "--green", "http://127.0.0.1:2", "--listen-fd", "77"], "descriptor 77"),
        (["--blue", "http://127.0.0.1:1", "--green", "http://127.0.0.1:2", "--listen-fd", "0", "--listen", "127.0.0.1:0"], "give one"),
    ])
    func routerBadFlagsExitTwo(arguments: [String], mention: String) throws {
        let (status, _, err) = try Executable.run("bluegreen-router", arguments)
        #expect(status == 2, "\(err)")
        #expect(err.contains(mention), "\(err)")
    }

    @Test func routerBadStateFileExitsTwoNamingIt() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-cli-state-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "{not json".write(toFile: path, atomically: true, encoding: .utf8)
        let (status, _, err) = try Executable.run("bluegreen-router", ["--blue", "http://127.0.0.1:1", "--green", "http://127.0.0.1:2", "--state-file", path])
        #expect(status == 2)
        #expect(err.contains(path), "\(err)")
    }

    @Test func deployDrivesARouterPhaseByPhase() async throws {
        try await withRig { rig in
            let admin = rig.adminURL
            let validate = try await Executable.runOnItsOwnThread("cutover", ["deploy", "--admin", admin, "--phase", "validate"])
            #expect(validate.status == 0, "\(validate.out)\(validate.err)")
            #expect(validate.out.contains("validate: blue healthy"))

            let canary = try await Executable.runOnItsOwnThread("cutover", ["deploy", "--admin", admin, "--phase", "canary", "--canary-percentage", "20"])
            #expect(canary.status == 0)
            #expect(canary.out.contains("Weights             blue 80 %, green 20 %"), "\(canary.out)")
            #expect(canary.out.range(of: #"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z  canary: done"#, options: .regularExpression) != nil, "\(canary.out)")

            let promote = try await Executable.runOnItsOwnThread("cutover", ["deploy", "--admin", admin, "--phase", "promote"])
            #expect(promote.status == 0 && promote.out.contains("Active environment  green"), "\(promote.out)")

            try await rig.green.setFaults(faults("[{id: sick, kind: status, status: 500}]"))
            _ = try await Executable.runOnItsOwnThread("cutover", ["deploy", "--admin", admin, "--phase", "rollback"])
            let refused = try await Executable.runOnItsOwnThread("cutover", ["deploy", "--admin", admin, "--phase", "canary", "--canary-percentage", "10"])
            #expect(refused.status == 1)
            #expect(refused.out.contains("refused (409)") && refused.out.contains("green is unhealthy"), "\(refused.out)")

            let status = try await Executable.runOnItsOwnThread("cutover", ["deploy", "--admin", admin, "--phase", "status"])
            #expect(status.status == 0 && status.out.contains("Last switch"))
        }
    }

    @Test func deployReportsAnUnreachableRouterClearly() throws {
        let (status, out, _) = try Executable.run("cutover", ["deploy", "--admin", "http://127.0.0.1:1", "--phase", "status"])
        #expect(status == 1)
        #expect(out.contains("router not reachable at http://127.0.0.1:1"), "\(out)")
    }

    @Test(arguments: [
        (["deploy", "--admin", "http://127.0.0.1:1", "--phase", "launch"], "--phase"),
        (["deploy", "--admin", "http://127.0.0.1:1", "--phase", "canary"], "--canary-percentage"),
        (["deploy", "--admin", "http://127.0.0.1:1", "--phase", "canary", "--canary-percentage", "0"], "1...100"),
        (["deploy", "--admin", "127.0.0.1:1", "--phase", "status"], "--admin"),
    ])
    func deployBadFlagsExitTwo(arguments: [String], mention: String) throws {
        let (status, _, err) = try Executable.run("cutover", arguments)
        #expect(status == 2, "\(err)")
        #expect(err.contains(mention), "\(err)")
    }
}
