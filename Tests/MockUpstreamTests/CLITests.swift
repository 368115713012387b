import Cutover
import Foundation
import Testing

/// The `mock-upstream` executable: ready line, signals, and exit 2 on bad input.
@Suite("mock-upstream CLI", .serialized, .timeLimit(.minutes(1)))
struct CLITests {
    /// The built executable sits next to the test bundle.
    static var executable: URL {
        var directory = Bundle.main.bundleURL
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("mock-upstream").path), directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("mock-upstream")
    }

    /// Runs the executable to completion and returns its exit status and stderr.
    func run(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = Pipe()
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test func announcesReadyServesAndExitsZeroOnSIGTERM() async throws {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["--name", "green", "--seed", "5", "--models", "a,b"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            line += data
        }
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
            let process = Process()
            process.executableURL = Self.executable
            process.arguments = ["--name", "blue"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = Pipe()
            try process.run()
            defer { if process.isRunning { process.terminate() } }
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let data = output.fileHandleForReading.availableData
                if data.isEmpty { break }
                line += data
            }
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
        let (status, stderr) = try run(arguments)
        #expect(status == 2, "\(stderr)")
        #expect(stderr.contains(mention), "\(stderr)")
    }

    @Test func badConfigFileExitsTwoNamingFileLineAndField() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-cli-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "name: blue\nfaults:\n  - kind: outage\n    mode: sideways\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (status, stderr) = try run(["--config", path])
        #expect(status == 2)
        #expect(stderr.contains("\(path):4: faults[0].mode: expected one of refuse|reset|hang"), "\(stderr)")
    }
}
