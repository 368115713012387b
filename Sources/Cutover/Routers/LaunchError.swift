/// A process the harness could not start, or that did not become ready (a router, a start
/// command, a shard): what it was, why, and its own words.
package struct LaunchError: Error, CustomStringConvertible, Sendable, Equatable {
    package enum Cause: Sendable, Equatable {
        /// The operating system refused to start it.
        case cannotStart
        /// It started but printed no ready line within `timeout`; its log is at `log`.
        case notReady(timeout: Duration, log: String)
        /// It ended (`status`, or the signal that killed it) before printing its ready line.
        case exited(status: Int32, signalled: Bool, log: String)
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
        case .exited(let status, let signalled, let log):
            "\(subject) \(signalled ? "was killed by signal \(status)" : "exited with status \(status)") before it was ready (log \(log)): \(detail)"
        }
    }

    /// What of a log to quote: a crash's first line (Swift's `Fatal error`, its
    /// backtracer's `Program crashed`) and the crashed thread's frames when there is one,
    /// for a backtrace's end says nothing of why; otherwise the log's end.
    package static func excerpt(of log: String, limit: Int = 1_200) -> String {
        let lines = log.split(separator: "\n", omittingEmptySubsequences: true)
        guard let first = lines.firstIndex(where: { $0.contains("Fatal error") || $0.contains("Program crashed") }) else {
            return String(log.suffix(limit))
        }
        var quoted = lines[first...].prefix(2)
        if let thread = lines.firstIndex(where: { $0.hasPrefix("Thread ") && $0.hasSuffix(" crashed:") }) {
            quoted += lines[thread...].prefix(12)
        }
        return String(quoted.joined(separator: "\n").prefix(limit))
    }
}
