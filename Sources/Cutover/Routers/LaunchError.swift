/// A process the harness could not start, or that did not become ready (a router, a start
/// command, a shard): what it was, why, and its own words.
package struct LaunchError: Error, CustomStringConvertible, Sendable, Equatable {
    package enum Cause: Sendable, Equatable {
        /// The operating system refused to start it.
        case cannotStart
        /// It started but printed no ready line within `timeout`; its log is at `log`.
        case notReady(timeout: Duration, log: String)
    }

    /// The process, as the message names it: its path, or its quoted command.
    package var subject: String
    package var cause: Cause
    /// The system's reason, or the end of the process's log.
    package var detail: String

    package init(_ subject: String, _ cause: Cause, detail: String) {
        self.subject = subject
        self.cause = cause
        self.detail = detail
    }

    package var description: String {
        switch cause {
        case .cannotStart: "cannot start \(subject): \(detail)"
        case .notReady(let timeout, let log): "\(subject) did not become ready within \(timeout) (log \(log)): \(detail)"
        }
    }
}
