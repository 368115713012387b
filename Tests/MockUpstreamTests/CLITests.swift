import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore
import Testing

/// The `mock-upstream` executable: ready line, signals, and exit 2 on bad input.
@Suite("mock-upstream CLI", .serialized, .timeLimit(.minutes(10)), .sharesTheMachine)
struct CLITests {
    @Test func announcesReadyServesAndExitsZeroOnSIGTERM() async throws {
        let (process, line) = try Executable.start("mock-upstream", ["--name", "green", "--seed", "5", "--models", "a,b"])
        defer { if process.isRunning { process.terminate() } }
        let ready = try #require(try JSONSerialization.jsonObject(with: line) as? [String: String])
        #expect(ready["event"] == "ready")
        #expect(ready["name"] == "green")
        let url = try #require(ready["url"])
        #expect(url.hasPrefix("http://127.0.0.1:"))
        #expect(ready["admin"]?.hasPrefix("http://127.0.0.1:") == true)

        let response = await CurlClient().get(url + "/v1/models")
        #expect(response.status == 200)
        #expect(response.text.contains(#""id":"b""#))

        process.terminate()  // SIGTERM
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
    }

    /// SIGTERM the moment the ready line arrives: the handler must already be installed.
    @Test func sigtermRightAfterTheReadyLineStillExitsZero() throws {
        for _ in 0..<5 {
            let (process, line) = try Executable.start("mock-upstream", ["--name", "blue"])
            defer { if process.isRunning { process.terminate() } }
            #expect(!line.isEmpty)
            process.terminate()
            process.waitUntilExit()
            #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        }
    }

    @Test(arguments: [
        (["--port", "70000"], "--port"),
        (["--host", "10.1.2.3"], "loopback"),
        (["--models", ","], "--models"),
        (["--seed", "minus-one"], "seed"),
        (["--no-such-flag"], "no-such-flag"),
        (["--config", "/nonexistent/mock.yaml"], "/nonexistent/mock.yaml"),
    ])
    func badFlagsExitTwoWithAClearMessage(arguments: [String], mention: String) throws {
        let (status, _, stderr) = try Executable.run("mock-upstream", arguments)
        #expect(status == 2, "\(stderr)")
        #expect(stderr.contains(mention), "\(stderr)")
    }

    @Test func badConfigFileExitsTwoNamingFileLineAndField() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-cli-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "name: blue\nfaults:\n  - kind: outage\n    mode: sideways\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (status, _, stderr) = try Executable.run("mock-upstream", ["--config", path])
        #expect(status == 2)
        #expect(stderr.contains("\(path):4: faults[0].mode: expected one of refuse|reset|hang"), "\(stderr)")
    }
}
