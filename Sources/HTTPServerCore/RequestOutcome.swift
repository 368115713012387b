/// How one exchange ended on the server side.
package enum RequestOutcome: String, Sendable, CaseIterable {
    /// Still being answered.
    case inFlight = "in-flight"
    /// The whole response was written.
    case completed
    /// The client closed the connection before the response was complete.
    case clientGone = "client-gone"
    /// The mock cut the response on purpose (truncate, stream-cut).
    case cut
    /// The mock reset the connection on purpose (outage reset or refuse).
    case reset
    /// Never answered (outage hang); ended by the client, the fault's removal or shutdown.
    case hung
}
