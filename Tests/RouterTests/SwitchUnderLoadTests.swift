import BlueGreenRouter
import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore
import Testing

/// The parts together: the load generator drives the router through canary, promote and
/// rollback, and not one request may drop; both upstream ledgers reconcile with the client's.
@Suite("Switching under load", .serialized, .timeLimit(.minutes(10)), .needsTheWholeMachine)
struct SwitchUnderLoadTests {
    @Test func canaryPromoteAndRollbackUnderLoadDropNothing() async throws {
        try await withRig { rig in
            var plan = LoadPlan(url: rig.url, model: .open(rate: 150), duration: .seconds(4))
            plan.mix = [.init(endpoint: .chat, weight: 6), .init(endpoint: .chatStream, weight: 3, maxTokens: 12), .init(endpoint: .models, weight: 1)]
            plan.sessions = 500
            plan.runID = "switch"
            async let run = LoadGenerator.run(plan)
            try await Task.sleep(for: .seconds(1))
            #expect(await rig.admin("POST", "/admin/canary", #"{"percent":50}"#).status == 200)
            try await Task.sleep(for: .seconds(1))
            #expect(await rig.admin("POST", "/admin/promote").status == 200)
            try await Task.sleep(for: .seconds(1))
            #expect(await rig.admin("POST", "/admin/rollback").status == 200)
            let result = await run

            #expect(result.valid)
            #expect(result.summary.outcomes == [.ok: 600], "\(result.summary.outcomes)")
            #expect(result.summary.byEnvironment[.green, default: 0] > 100)
            #expect(result.summary.byEnvironment[.blue, default: 0] > 100)
            // Every client request executed exactly once, on the environment that answered it.
            try await waitFor { (rig.clientRequests(rig.blue) + rig.clientRequests(rig.green)).allSatisfy { $0.outcome != .inFlight } }
            let upstream =
                rig.clientRequests(rig.blue).map { ($0.requestID, ServedBy.blue) } + rig.clientRequests(rig.green).map { ($0.requestID, ServedBy.green) }
            #expect(upstream.count == 600)
            let served = Dictionary(upstream, uniquingKeysWith: { first, _ in first })
            #expect(served.count == 600)
            for record in result.ledger.records {
                #expect(served[result.ledger.requestID(record)] == record.servedBy)
            }
        }
    }
}
