import Foundation

/// The package's built executables, found next to the test bundle.
package enum Executable {
    package static func url(_ name: String) -> URL {
        var directory = Bundle.main.bundleURL
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent(name)
    }

    /// Runs to completion; returns the exit status, stdout and stderr.
    package static func run(_ name: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try run(url(name), arguments)
    }

    /// Runs the executable at `executable` to completion.
    package static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, out: String, err: String)
    {
        let process = Process()
        process.executableURL = executable
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // Read both pipes at once: a child that fills one while we wait on the other would hang.
        let errData = PipeReader(err)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData.wait(), as: UTF8.self))
    }

    /// Runs to completion on a thread of its own: an async test that waits for a child must
    /// not hold one of the few cooperative threads (two here) that its in-process router and
    /// mocks need to answer that child, or the child times out against a stalled server.
    package static func runOnItsOwnThread(_ name: String, _ arguments: [String]) async throws -> (status: Int32, out: String, err: String) {
        try await runOnItsOwnThread(url(name), arguments)
    }

    /// Runs the executable at `executable` to completion on a thread of its own.
    package static func runOnItsOwnThread(
        _ executable: URL, _ arguments: [String], environment: [String: String]? = nil
    ) async throws -> (status: Int32, out: String, err: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try run(executable, arguments, environment: environment) }) }.start()
        }
    }

    /// Starts a server executable and waits for its JSON ready line. The caller stops the
    /// process (`terminate()`), also when it fails.
    package static func start(_ name: String, _ arguments: [String]) throws -> (process: Process, readyLine: Data) {
        let process = Process()
        process.executableURL = url(name)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            line += data
        }
        return (process, line)
    }
}

/// Reads a pipe to its end on its own thread.
private final class PipeReader: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ pipe: Pipe) {
        let handle = pipe.fileHandleForReading
        Thread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }.start()
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
