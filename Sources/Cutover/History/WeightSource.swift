/// Who reports green's weight after each action. A router that can be asked (its admin or
/// stats API, its served configuration) reports its own; one that cannot (open-source
/// nginx has no API that reads `split_clients` back) is reported by the driver, which only
/// knows what it last wrote. The driver's figure certifies nothing: the checks that compare
/// reported weights leave it out and judge from the upstreams' evidence alone, and the
/// report says whose figure it shows.
package enum WeightSource: Sendable, Equatable, Codable {
    /// The router's own answer.
    case router
    /// The driver's own record; why the router cannot be asked, in the report's words.
    case driver(reason: String)

    /// What a check's summary adds when it left the driver's figures out.
    package var notCompared: String {
        switch self {
        case .router: ""
        case .driver(let reason): " (weights not compared: \(reason))"
        }
    }

    /// `router` or `driver`, as report.json writes it.
    package var name: String {
        switch self {
        case .router: "router"
        case .driver: "driver"
        }
    }
}
