import NIOConcurrencyHelpers
import NIOCore

/// The open connections of one listener, so an outage can abort them all and a
/// cleared hang can release the connections it held.
final class ConnectionRegistry: Sendable {
    enum Event: Sendable {
        /// Abort the connection (the upstream went down); the fault that did it, if known.
        case outage(cause: String?)
        /// Close a hung connection (its hang fault was removed).
        case releaseHung
        /// Close the connection: the mock is shutting down.
        case shutdown
    }

    private struct State {
        var open: [ObjectIdentifier: any Channel] = [:]
        var hung: Set<ObjectIdentifier> = []
    }

    private let state = NIOLockedValueBox(State())

    func add(_ channel: any Channel) {
        state.withLockedValue { $0.open[ObjectIdentifier(channel)] = channel }
    }

    func remove(_ channel: any Channel) {
        state.withLockedValue {
            $0.open[ObjectIdentifier(channel)] = nil
            $0.hung.remove(ObjectIdentifier(channel))
        }
    }

    func markHung(_ channel: any Channel) {
        _ = state.withLockedValue { $0.hung.insert(ObjectIdentifier(channel)) }
    }

    func isHung(_ channel: any Channel) -> Bool {
        state.withLockedValue { $0.hung.contains(ObjectIdentifier(channel)) }
    }

    var openCount: Int { state.withLockedValue { $0.open.count } }

    /// Sends `event` to every open connection (or only hung ones) and waits until each handled it.
    func broadcast(_ event: Event, onlyHung: Bool = false) async {
        let channels = state.withLockedValue { state in
            onlyHung ? state.hung.compactMap { state.open[$0] } : Array(state.open.values)
        }
        for channel in channels {
            channel.pipeline.fireUserInboundEventTriggered(event)
            try? await channel.closeFuture.get()
        }
    }
}
