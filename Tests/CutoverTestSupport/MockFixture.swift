import ConfigInput
import CurlHTTP
import Cutover
import HTTPServerCore
import Testing

/// Starts a mock on loopback port 0, runs `body`, and always shuts the mock down.
package func withMock<T>(
    _ configuration: MockConfiguration = MockConfiguration(name: "blue"),
    _ body: (MockUpstream) async throws -> T
) async throws -> T {
    let mock = MockUpstream(configuration: configuration)
    try await mock.start()
    do {
        let result = try await body(mock)
        await mock.shutdown()
        return result
    } catch {
        await mock.shutdown()
        throw error
    }
}

/// Faults written as YAML, for brevity in tests.
package func faults(_ yaml: String) throws -> [Fault] {
    try Fault.parseList(ConfigNode.parseYAML(yaml, source: "test"))
}

/// Polls `condition` every 10 ms for up to `timeout`; records an issue if it never holds.
package func waitFor(
    timeout: Duration = .seconds(5), sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !(await condition()) {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within \(timeout)", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}
