import Cutover
import Foundation

/// The reference router, frozen (SIGSTOP) for `duration` right after its first canary was
/// accepted, as a router whose process stalls (a swapped-out host, a stop-the-world pause)
/// would be: its listeners keep accepting into their backlogs, and nothing answers. It is
/// always resumed (SIGCONT) before it is stopped.
package actor FreezingRouter: RouterDriver {
    package nonisolated let profile = "reference (frozen during the canary)"
    private let base: ReferenceRouter
    private let duration: Duration
    private var frozen: Int32?
    private var thaw: Task<Void, Never>?

    package init(executable: URL, freezeFor duration: Duration) {
        base = ReferenceRouter(executable: executable)
        self.duration = duration
    }

    package func start(_ environment: RouterEnvironment) async throws -> String { try await base.start(environment) }

    package func perform(_ action: RouterAction) async -> ActionOutcome {
        let outcome = await base.perform(action)
        if action.isCanary, outcome.accepted, thaw == nil, let pid = await base.processID {
            kill(pid, SIGSTOP)
            frozen = pid
            let duration = duration
            thaw = Task {
                try? await Task.sleep(for: duration)
                self.resume()
            }
        }
        return outcome
    }

    private func resume() {
        if let pid = frozen { kill(pid, SIGCONT) }
        frozen = nil
    }

    package func greenWeight() async -> Int? { frozen == nil ? await base.greenWeight() : nil }

    package func build() async -> RouterBuild { await base.build() }

    package func stop() async {
        thaw?.cancel()
        resume()
        await base.stop()
    }
}
