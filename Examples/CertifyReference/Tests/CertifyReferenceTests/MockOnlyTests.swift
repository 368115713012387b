import Foundation
import MockUpstream
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The mock upstream alone: a fault on command, and the request in its ledger.
@Test func mockAnswersWithAnInjectedStatus() async throws {
    let mock = MockUpstream(configuration: MockConfiguration(name: "green", seed: 1))
    try await mock.start()
    do {
        try await mock.setFaults([Fault(id: "overloaded", kind: .status(code: 503, retryAfter: .seconds(2), headers: [], message: nil))])
        var request = URLRequest(url: URL(string: mock.url + "/v1/models")!)
        request.setValue("req-1", forHTTPHeaderField: "X-Request-ID")
        let (_, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        #expect(http.statusCode == 503)
        #expect(http.value(forHTTPHeaderField: "Retry-After") == "2")
        await mock.ledger.waitUntilSettled(timeout: .seconds(2))
        let entry = try #require(mock.ledger.entries().first)
        #expect(entry.requestID == "req-1" && entry.status == 503 && entry.faults == ["overloaded"])
    } catch {
        await mock.shutdown()
        throw error
    }
    await mock.shutdown()
}
