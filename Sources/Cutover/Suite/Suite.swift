import MockUpstream

/// A named chaos suite: upstreams, a router profile, load, a timeline of router actions
/// and faults, and the checks that judge the run (SPEC §4).
public struct Suite: Sendable {
    public var name: String
    public var description: String
    public var seed: UInt64
    public var duration: Duration
    public var upstreams: [ServedBy: UpstreamSpec]
    /// `reference`, `nginx`, `haproxy`, or a profile file path.
    public var router: String
    public var load: LoadSpec
    public var timeline: [TimelineStep]
    public var checks: [CheckSpec]
    /// Targets for goodput in the report (`slo: {ttft: 2s, itl: 100ms, headers: 500ms}`).
    public var slo: StreamMetrics.SLO?

    /// The phase names the timeline declares, in order.
    public var phases: [String] { timeline.compactMap(\.phase) }
}

/// One mock upstream's options.
public struct UpstreamSpec: Sendable, Equatable {
    public var models: [String] = MockConfiguration.defaultModels
    public var faults: [Fault] = []
    public var apiKey: String?
}

/// The load a suite drives (SPEC §3's plan, in the suite's words).
public struct LoadSpec: Sendable {
    public var model: LoadPlan.Model
    public var sessions: Int = 1_000
    public var mix: [LoadPlan.MixEntry] = [LoadPlan.MixEntry(endpoint: .chat, weight: 1)]
    public var models: [(name: String, weight: Double)] = [("gpt-4.1", 1)]
    /// Per-request limit (long streams need more than the default).
    public var timeout: Duration = .seconds(30)
    /// Limit on connecting.
    public var connectTimeout: Duration = .seconds(5)
    /// Open model: most requests in flight at once (long streams need more than the default).
    public var maxInFlight = 4_096
    /// Open model: how arrivals are spaced.
    public var arrival: Arrival = .constant
    /// Closed model: each client's pause before its next request, in milliseconds.
    public var thinkTimeMs: LengthDistribution?
    /// Requests per conversation (1: single requests).
    public var turns = 1
    /// Streams the client abandons on purpose.
    public var cancellation: LoadPlan.Cancellation?
}

/// One moment of the timeline: an optional phase start plus at most one event.
public struct TimelineStep: Sendable, Equatable {
    public var at: Duration
    /// The phase that starts here, if any.
    public var phase: String?
    public var event: Event?
    /// What the router must do with this step's action (accept it by default).
    public var expect: ActionRecord.Expectation = .accepted
    /// Line in the suite file, for reports that point back at it.
    public var line: Int?

    public enum Event: Sendable, Equatable {
        /// Asks the router under test to act.
        case action(RouterAction)
        /// Adds a fault to one upstream.
        case fault(target: ServedBy, Fault)
        /// Clears one fault (or all, when `id` is nil) on one upstream.
        case heal(target: ServedBy, id: String?)
    }
}

/// A check and its parameters, as the suite names them.
public struct CheckSpec: Sendable, Equatable {
    public var name: String
    /// Phases the check looks at; empty means all.
    public var phases: [String] = []
    public var alpha: Double?
    public var max: Duration?
    public var factor: Double?
    public var tolerance: Double?
    public var line: Int?

    public init(
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
