import NIOConcurrencyHelpers
import NIOCore

/// How late a server's event loops run a timer: every `interval`, each loop runs a task
/// and records how far past its due time it ran. A loop that falls behind delays every
/// accept, head and stream frame it carries, so a mock whose loops lagged cannot vouch for
/// the exchanges it served: its lag is evidence of a run's validity, like the generator's.
package final class LoopLag: Sendable {
    package let stats = LatenessStats()
    private let tasks = NIOLockedValueBox<[RepeatedTask]>([])
    static let interval: TimeAmount = .milliseconds(10)

    package init() {}

    /// Starts watching every loop of `group` (again after `stop()` is harmless).
    package func start(on group: any EventLoopGroup) {
        let stats = self.stats
        let started = group.makeIterator().map { loop in
            let due = NIOLoopBoundBox.makeBoxSendingValue(NIODeadline.now() + Self.interval, as: NIODeadline.self, eventLoop: loop)
            return loop.scheduleRepeatedTask(initialDelay: Self.interval, delay: Self.interval) { _ in
                let now = NIODeadline.now()
                stats.record(lateUs: UInt64(max(0, (now - due.value).nanoseconds / 1_000)))
                due.value = now + Self.interval
            }
        }
        tasks.withLockedValue { $0 += started }
    }

    /// Stops the timers.
    package func stop() {
        for task in tasks.withLockedValue({ tasks in
            defer { tasks = [] }; return tasks
        }) { task.cancel() }
    }
}
