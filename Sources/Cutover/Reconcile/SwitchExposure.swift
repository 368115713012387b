/// How hard a run pressed the router where routers fail: the requests and streams exposed
/// to a router action (in flight at its call, or sent within a second after it), each
/// counted once however many actions it met.
package struct SwitchExposure: Sendable, Encodable, Equatable {
    /// Router actions that changed something (validate aside).
    package var actions: Int
    /// Non-streamed requests exposed.
    package var requests: Int
    /// Streams exposed.
    package var streams: Int

    static let afterUs: UInt32 = 1_000_000

    init(_ run: ReconciledRun) {
        let spans = run.actions.filter { $0.action != .validate }.map { (from: $0.calledUs, to: $0.calledUs &+ Self.afterUs) }
        actions = spans.count
        var requests = 0
        var streams = 0
        for record in run.records where record.outcome != .notSent {
            let end = record.doneUs == 0 ? UInt32.max : record.doneUs
            let exposed = spans.contains { span in
                (record.sentUs < span.from && end > span.from) || (record.sentUs >= span.from && record.sentUs < span.to)
            }
            guard exposed else { continue }
            if record.endpoint == .chatStream { streams += 1 } else { requests += 1 }
        }
        self.requests = requests
        self.streams = streams
    }
}
