/// What a router driver could not do with its router (start, reload, restart, a runtime
/// command), with the cause as a value and the router's own words as the detail. A run
/// whose router could not start is invalid (exit 3), never failed.
package struct RouterError: Error, CustomStringConvertible, Sendable, Equatable {
    package enum Cause: String, Sendable, Equatable {
        /// The router checked its configuration and refused it (`nginx -t`, `haproxy -c`).
        case configurationRefused
        /// It did not come up in time: not serving, no new worker, no ready line.
        case notReady
        /// It is not running when it must be.
        case notRunning
        /// It refused a runtime command.
        case commandRefused
        /// There is no executable to start.
        case noExecutable
        /// The machine could not give the start what it needs (a socket, a port).
        case noResource
    }

    package var cause: Cause
    /// The whole message, naming the router and what it said.
    package var detail: String

    package init(_ cause: Cause, _ detail: String) {
        self.cause = cause
        self.detail = detail
    }

    package var description: String { detail }
}
