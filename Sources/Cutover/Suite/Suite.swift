import MockUpstream

/// A named chaos suite: upstreams, a router profile, load, a timeline of router actions
/// and faults, and the checks that judge the run (SPEC §4).
public struct Suite: Sendable {
    /// The suite's name: the file's name for a named suite.
    public package(set) var name: String
    /// What the suite does, in a line.
    public package(set) var description: String
    /// The seed a run uses unless it is given another.
    public package(set) var seed: UInt64
    /// How long the load runs.
    public package(set) var duration: Duration
    package var upstreams: [ServedBy: UpstreamSpec]
    /// `reference`, `nginx`, `haproxy`, or a profile file path.
    package var router: String
    package var load: LoadSpec
    package var timeline: [TimelineStep]
    package var checks: [CheckSpec]
    /// Targets for goodput in the report (`slo: {ttft: 2s, itl: 100ms, headers: 500ms}`).
    package var slo: StreamMetrics.SLO?

    /// The phase names the timeline declares, in order.
    package var phases: [String] { timeline.compactMap(\.phase) }

    /// The key the suite's upstreams require, if any: the load sends it, and the router's
    /// own health probes need it.
    package var upstreamAPIKey: String? { upstreams[.blue]?.apiKey ?? upstreams[.green]?.apiKey }
}

/// One mock upstream's options.
package struct UpstreamSpec: Sendable, Equatable {
    package var models: [String] = MockConfiguration.defaultModels
    package var faults: [Fault] = []
    package var apiKey: String?
}

/// The load a suite drives (SPEC §3's plan, in the suite's words).
package struct LoadSpec: Sendable {
    package var model: LoadPlan.Model
    package var sessions: Int = 1_000
    package var mix: [LoadPlan.MixEntry] = [LoadPlan.MixEntry(endpoint: .chat, weight: 1)]
    package var models: [(name: String, weight: Double)] = [("gpt-4.1", 1)]
    /// Per-request limit (long streams need more than the default).
    package var timeout: Duration = .seconds(30)
    /// Limit on connecting.
    package var connectTimeout: Duration = .seconds(5)
    /// Open model: most requests in flight at once (long streams need more than the default).
    package var maxInFlight = 4_096
    /// Open model: how arrivals are spaced.
    package var arrival: Arrival = .constant
    /// Closed model: each client's pause before its next request, in milliseconds.
    package var thinkTimeMs: LengthDistribution?
    /// Requests per conversation (1: single requests).
    package var turns = 1
    /// Streams the client abandons on purpose.
    package var cancellation: LoadPlan.Cancellation?
}

/// One moment of the timeline: an optional phase start plus at most one event.
package struct TimelineStep: Sendable, Equatable {
    package var at: Duration
    /// The phase that starts here, if any.
    package var phase: String?
    package var event: Event?
    /// What the router must do with this step's action (accept it by default).
    package var expect: ActionRecord.Expectation = .accepted
    /// Line in the suite file, for reports that point back at it.
    package var line: Int?

    package enum Event: Sendable, Equatable {
        /// Asks the router under test to act.
        case action(RouterAction)
        /// Adds a fault to one upstream.
        case fault(target: ServedBy, Fault)
        /// Clears one fault (or all, when `id` is nil) on one upstream.
        case heal(target: ServedBy, id: String?)
    }
}

/// A check and its parameters, as the suite names them.
package struct CheckSpec: Sendable, Equatable {
    package var name: String
    /// Phases the check looks at; empty means all.
    package var phases: [String] = []
    package var alpha: Double?
    package var max: Duration?
    package var factor: Double?
    package var tolerance: Double?
    package var line: Int?

    package init(
        name: String, phases: [String] = [], alpha: Double? = nil, max: Duration? = nil, factor: Double? = nil, tolerance: Double? = nil,
        line: Int? = nil
    ) {
        self.name = name
        self.phases = phases
        self.alpha = alpha
        self.max = max
        self.factor = factor
        self.tolerance = tolerance
        self.line = line
    }
}
