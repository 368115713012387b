/// Who decides when a load engine sends: the open model's schedule (`OpenSchedule`: each
/// slot when it falls due, whether or not earlier ones ended) or the closed model's clients
/// (`ClosedClients`: each client's next request once its last one ended and it thought).
/// The engine's loop asks the model what is due, and tells it when a transfer is free.
protocol SendingModel {
    /// The most transfers in flight at once.
    var transferLimit: Int { get }
    /// Sends through `engine` what is due at `nowUs` (or records it `not-sent` when too late).
    mutating func startDue(_ nowUs: UInt64, engine: LoadEngine)
    /// Nothing more will be sent.
    func isDone(nowUs: UInt64) -> Bool
    /// When something is next due (µs), if it could be sent when it is.
    func nextDueUs(nowUs: UInt64, inFlight: Int) -> UInt64?
    /// `transfer`'s request was answered at `answeredUs`; the transfer is free again.
    mutating func released(_ transfer: CurlTransfer, answeredUs: UInt64)
    /// The engine cannot send at all (no descriptor was left for its poll): each slot it would
    /// have sent first is recorded `not-sent` through `engine`, the harness's fault.
    mutating func recordUnsendable(engine: LoadEngine)
}
