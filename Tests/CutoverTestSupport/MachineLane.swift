import ConfigInput
import Foundation
import Testing

/// How much of the machine a live test needs, so that `swift test` can run the rest in
/// parallel: pure tests take no lane and run whenever they like; live tests that only need
/// their own servers take one of two lanes (`.sharesTheMachine`), so two run at once, which
/// a loopback run at a few hundred requests a second leaves all but idle; tests that judge
/// time against a quiet machine, or that load, freeze or reconfigure the process
/// (`.needsTheWholeMachine`), run alone. A test that also needs a shared outside resource
/// (the machine's nginx and HAProxy, found by their process names) names it, and runs
/// alone among the tests that name it.
package struct MachineLane: TestTrait, SuiteTrait, TestScoping {
    package enum Need: Sendable {
        case lane
        case wholeMachine
    }

    let need: Need
    let resource: String?

    package var isRecursive: Bool { true }

    package func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        // A suite holds nothing itself; each test (each case of a parameterized one) holds its
        // lane while it runs, once, however the library nests its scopes.
        guard !test.isSuite, !Machine.held else { return try await function() }
        let queued = ContinuousClock.now
        try await Machine.shared.hold(lanes: need == .wholeMachine ? Machine.lanes : 1, resource: resource) {
            let started = ContinuousClock.now
            defer { Machine.log(test: test, testCase: testCase, need: need, waited: started - queued, held: .now - started) }
            try await Machine.$held.withValue(true) { try await function() }
        }
    }
}

extension Trait where Self == MachineLane {
    /// A live test that needs only its own servers: it runs beside one other.
    package static var sharesTheMachine: Self { MachineLane(need: .lane, resource: nil) }
    /// A live test that also uses `resource` (say, "nginx and HAProxy"), which no other
    /// test that names it may use meanwhile.
    package static func sharesTheMachine(using resource: String) -> Self { MachineLane(need: .lane, resource: resource) }
    /// A test that judges time against a quiet machine, or loads, freezes or reconfigures
    /// the process: it runs alone.
    package static var needsTheWholeMachine: Self { MachineLane(need: .wholeMachine, resource: nil) }
}

/// The machine's lanes and named resources, handed out lane tests first (see `dispatch`).
actor Machine {
    static let shared = Machine()
    /// Live tests that may run at once.
    static let lanes = 2
    /// Set while a test holds its lane, so that a nested scope does not wait on itself.
    @TaskLocal static var held = false

    /// `CUTOVER_LANE_LOG=<file>`: one line per live test (its need, seconds waited and held),
    /// to see where `make test`'s time goes.
    static let logPath = ProcessInfo.processInfo.environment["CUTOVER_LANE_LOG"]

    nonisolated static func log(test: Test, testCase: Test.Case?, need: MachineLane.Need, waited: Duration, held: Duration) {
        guard let logPath, let file = fopen(logPath, "a") else { return }
        defer { fclose(file) }
        let seconds = { (duration: Duration) in Double(duration.microseconds) / 1e6 }
        let need = need == .wholeMachine ? "whole" : "lane"
        fputs("\(need)\t\(String(format: "%.1f\t%.1f", seconds(waited), seconds(held)))\t\(test.name)\(testCase == nil ? "" : " (a case)")\n", file)
    }

    private var free = Machine.lanes
    private var busy: Set<String> = []
    /// A test waiting for its lanes.
    private struct Waiter {
        let lanes: Int
        let resource: String?
        let resume: CheckedContinuation<Void, Never>

        var turn: Turn { lanes == Machine.lanes ? .wholeMachine : resource == nil ? .lane : .resourceLane }
    }

    /// The order tests start in: resource tests first, then the other lane tests, then
    /// whole-machine tests.
    private enum Turn: Int, Comparable {
        case resourceLane, lane, wholeMachine

        static func < (lhs: Turn, rhs: Turn) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private var waiting: [Waiter] = []

    func hold<T: Sendable>(lanes: Int, resource: String?, _ body: @Sendable () async throws -> T) async throws -> T {
        await acquire(lanes: lanes, resource: resource)
        defer { release(lanes: lanes, resource: resource) }
        return try await body()
    }

    private func available(_ lanes: Int, _ resource: String?) -> Bool { free >= lanes && !(resource.map(busy.contains) ?? false) }

    /// When the first test asked for a lane: the run's start, give or take.
    private let opened = ContinuousClock.now

    private func acquire(lanes: Int, resource: String?) async {
        // The tests start all at once; a whole-machine test that asks first waits a moment, so
        // that it does not hold both lanes while the lane tests queue up behind it.
        if lanes == Machine.lanes { try? await Task.sleep(until: opened + .seconds(2)) }
        await withCheckedContinuation {
            waiting.append(Waiter(lanes: lanes, resource: resource, resume: $0))
            dispatch()
        }
    }

    /// Starts every waiting test that may start, in this order: tests that use a shared
    /// resource (the longest chain, since they run one at a time), then the other lane tests,
    /// first come first served, and the whole-machine tests only when no lane test is waiting.
    /// So no lane idles behind a whole-machine test waiting for the other lane to empty, and
    /// the tests that judge time run last, after the pure tests have finished, on a quiet machine.
    private func dispatch() {
        while true {
            let order = waiting.indices.sorted { (waiting[$0].turn, $0) < (waiting[$1].turn, $1) }
            let laneTestsWait = waiting.contains { $0.turn != .wholeMachine }
            let startable = { (waiter: Waiter) in
                self.available(waiter.lanes, waiter.resource) && (waiter.turn != .wholeMachine || !laneTestsWait)
            }
            guard let next = order.first(where: { startable(waiting[$0]) }) else { return }
            let waiter = waiting.remove(at: next)
            take(waiter.lanes, waiter.resource)
            waiter.resume.resume()
        }
    }

    private func take(_ lanes: Int, _ resource: String?) {
        free -= lanes
        if let resource { busy.insert(resource) }
    }

    private func release(lanes: Int, resource: String?) {
        free += lanes
        if let resource { busy.remove(resource) }
        dispatch()
    }
}
