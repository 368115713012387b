import ConfigInput
import Foundation
import HTTPServerCore

extension Suite {
    /// A named suite from Cutover's `suites/` folder, such as `canary-promote` or `rollback`
    /// (``Suite/names`` lists them; `cutover list` describes them).
    ///
    /// - Throws: ``CutoverError`` when no suite has that name or its file is invalid.
    public static func named(_ name: String) throws(CutoverError) -> Suite {
        guard !name.contains("/"), !name.hasSuffix(".yaml"), !name.hasSuffix(".yml") else {
            throw CutoverError(source: name, line: nil, field: "suite", message: "expected a suite name; use Suite.file(_:) for a suite file")
        }
        do { return try SuiteLibrary.locate().suite(name) } catch { throw CutoverError(error) }
    }

    /// A suite file in the YAML format of SPEC §4.
    ///
    /// - Throws: ``CutoverError`` naming the file, the line and the field when the file
    ///   cannot be read or is invalid.
    public static func file(_ path: String) throws(CutoverError) -> Suite {
        do { return try Suite.load(file: path) } catch { throw CutoverError(error) }
    }

    /// The names ``named(_:)`` knows, sorted.
    public static var names: [String] { SuiteLibrary.locate().names() }

    /// A suite built in code. It is checked exactly as a suite file is (the same rules,
    /// the same messages), so a mistake names the field: `timeline[2].at`, `checks[0].name`.
    ///
    /// ```swift
    /// try Suite(
    ///     name: "short-canary", seed: 11, duration: .seconds(6),
    ///     load: .open(rate: 120, sessions: 300, mix: [.chat(weight: 80), .chatStream(weight: 20, maxTokens: 8)]),
    ///     timeline: [
    ///         .at(.zero, phase: "baseline"),
    ///         .at(.seconds(1), .validate),
    ///         .at(.seconds(2), .canary(percent: 30), phase: "canary-30"),
    ///     ],
    ///     checks: [.zeroDropped, .stickiness, .noDuplicateExecution, .actionsHonoured, .generatorValid])
    /// ```
    ///
    /// - Parameters:
    ///   - name: Letters, digits, `-` and `_`; it names the run in reports.
    ///   - description: What the suite does, in a line.
    ///   - seed: Every random choice (sessions, mix, fault draws) follows from it, so a run replays.
    ///   - duration: How long load runs; every step must fall within it.
    ///   - load: The traffic: an open or a closed model, its sessions and its mix.
    ///   - upstreams: Models, API key and faults from the start, per environment.
    ///   - timeline: Steps in time order: phases, router actions, faults and heals.
    ///   - checks: What must hold; at least one.
    /// - Throws: ``CutoverError`` when the suite breaks a rule of the suite format.
    public init(
        name: String, description: String = "", seed: UInt64 = 0, duration: Duration, load: Load, upstreams: [Environment: Upstream] = [:],
        timeline: [Step], checks: [Check]
    ) throws(CutoverError) {
        var fields: [(String, JSON)] = [
            ("name", .string(name)), ("description", .string(description)), ("seed", .int(Int(truncatingIfNeeded: seed))),
            ("duration", .string(DurationText.format(duration))), ("load", load.json),
        ]
        if !upstreams.isEmpty {
            fields.append(("upstreams", .object(upstreams.sorted { $0.key.rawValue < $1.key.rawValue }.map { ($0.key.rawValue, $0.value.json) })))
        }
        fields += [("timeline", .array(timeline.map(\.json))), ("checks", .array(checks.map(\.json)))]
        let source = "suite '\(name)' built in code"
        do {
            self = try Suite.parse(root: try ConfigNode.parseJSON(Array(JSON.object(fields).text.utf8), source: source))
        } catch {
            throw CutoverError(error)
        }
    }

    /// The two upstream environments behind the router.
    public enum Environment: String, Sendable, Hashable, CaseIterable {
        /// The live environment.
        case blue
        /// The new build that traffic moves to.
        case green
    }

    /// One environment's mock upstream: its models, the API key it requires, and faults
    /// active from the start.
    public struct Upstream: Sendable {
        /// The models `GET /v1/models` lists and chat requests may name.
        public var models: [String]
        /// The bearer token the upstream requires; the load sends it.
        public var apiKey: String?
        /// Faults active from the run's start.
        public var faults: [Fault]

        /// An upstream with these models, key and faults.
        public init(models: [String] = MockConfiguration.defaultModels, apiKey: String? = nil, faults: [Fault] = []) {
            self.models = models
            self.apiKey = apiKey
            self.faults = faults
        }

        var json: JSON {
            var pairs: [(String, JSON)] = [("models", .array(models.map(JSON.string))), ("faults", .array(faults.map(\.json)))]
            if let apiKey { pairs.append(("api_key", .string(apiKey))) }
            return .object(pairs)
        }
    }

    /// The load: an open model (a rate of new requests, however slow the router gets) or
    /// a closed one (a number of connections, each waiting for its answer).
    public struct Load: Sendable {
        var fields: [(String, JSON)]

        /// `rate` requests per second (ramping to `rampTo` by the end), spread over
        /// `sessions` session keys, with the traffic `mix`.
        public static func open(rate: Double, rampTo: Double? = nil, sessions: Int = 1_000, mix: [Traffic] = [.chat()], timeout: Duration = .seconds(30))
            -> Load
        {
            var fields: [(String, JSON)] = [("model", .string("open")), ("rate", .double(rate))]
            if let rampTo { fields.append(("ramp_to", .double(rampTo))) }
            return Load(fields: fields + common(sessions: sessions, mix: mix, timeout: timeout))
        }

        /// `connections` clients, each sending its next request when the last one ended.
        public static func closed(connections: Int, sessions: Int = 1_000, mix: [Traffic] = [.chat()], timeout: Duration = .seconds(30)) -> Load {
            Load(fields: [("model", .string("closed")), ("connections", .int(connections))] + common(sessions: sessions, mix: mix, timeout: timeout))
        }

        private static func common(sessions: Int, mix: [Traffic], timeout: Duration) -> [(String, JSON)] {
            [("sessions", .int(sessions)), ("mix", .array(mix.map(\.json))), ("timeout", .string(DurationText.format(timeout)))]
        }

        var json: JSON { .object(fields) }
    }

    /// One kind of request in the load's mix, with its share (`weight`, relative to the others).
    public struct Traffic: Sendable {
        var json: JSON

        /// `POST /v1/chat/completions`, answered whole.
        public static func chat(weight: Double = 1, maxTokens: Int = 16) -> Traffic { entry("chat", weight, maxTokens) }
        /// `POST /v1/chat/completions` with `stream: true`: server-sent events.
        public static func chatStream(weight: Double = 1, maxTokens: Int = 32) -> Traffic { entry("chat-stream", weight, maxTokens) }
        /// `GET /v1/models`.
        public static func models(weight: Double = 1) -> Traffic { entry("models", weight, nil) }

        private static func entry(_ endpoint: String, _ weight: Double, _ maxTokens: Int?) -> Traffic {
            var pairs: [(String, JSON)] = [("endpoint", .string(endpoint)), ("weight", .double(weight))]
            if let maxTokens { pairs.append(("max_tokens", .int(maxTokens))) }
            return Traffic(json: .object(pairs))
        }
    }

    /// What happens at a step: a router action, or a fault or heal on one upstream.
    public enum Event: Sendable {
        /// Ask the router to health-check both environments.
        case validate
        /// Ask the router to send `percent` % of sessions to green.
        case canary(percent: Int)
        /// Ask the router to send everything to green.
        case promote
        /// Ask the router to send everything back to blue.
        case rollback
        /// Restart the router; its weights must survive.
        case restart
        /// Kill the router's processes with requests in flight and start it again on the
        /// same state; it must serve again soon, with its weights.
        case crash
        /// Start a fault on one upstream.
        case fault(Fault, on: Environment)
        /// End every fault on one upstream.
        case heal(Environment)
        /// End one fault, by its id, on one upstream.
        case healFault(id: String, on: Environment)
    }

    /// One moment of the timeline: the phase that starts there, and at most one event.
    public struct Step: Sendable {
        var json: JSON

        /// A step at `time` from the run's start. An action's `expect` says whether the
        /// router must accept it (the default) or refuse it (a health-gated canary).
        public static func at(_ time: Duration, _ event: Event? = nil, phase: String? = nil, expectRefused: Bool = false) -> Step {
            var pairs: [(String, JSON)] = [("at", .string(DurationText.format(time)))]
            if let phase { pairs.append(("phase", .string(phase))) }
            switch event {
            case nil: break
            case .validate: pairs.append(("action", .string("validate")))
            case .canary(let percent): pairs += [("action", .string(RouterAction.Kind.canary.rawValue)), ("percent", .int(percent))]
            case .promote: pairs.append(("action", .string("promote")))
            case .rollback: pairs.append(("action", .string("rollback")))
            case .restart: pairs.append(("action", .string("restart")))
            case .crash: pairs.append(("action", .string("crash")))
            case .fault(let fault, let env):
                guard case .object(let faultPairs) = fault.json else { break }
                pairs.append(("fault", .object([("target", .string(env.rawValue))] + faultPairs)))
            case .heal(let env): pairs.append(("heal", .string(env.rawValue)))
            case .healFault(let id, let env): pairs.append(("heal", .object([("target", .string(env.rawValue)), ("fault", .string(id))])))
            }
            if expectRefused { pairs.append(("expect", .string("refused"))) }
            return Step(json: .object(pairs))
        }
    }

    /// A check the run must pass, with its parameters. docs/checks.md says what each check means.
    public struct Check: Sendable {
        /// The check's name, as in suite files.
        public var name: String
        /// The phases it looks at; empty means the whole run.
        public var phases: [String]
        /// The significance level of a statistical check (SplitAccuracy).
        public var alpha: Double?
        /// A time bound (ConvergenceTime, RollbackTime, CancelPropagation; GeneratorValid's lag).
        public var max: Duration?
        /// The latency budget as a multiple of the quiet median (LatencyBudget).
        public var factor: Double?
        /// How close green's share must come to the weight (ConvergenceTime).
        public var tolerance: Double?

        /// A check by name; a parameter the check does not take is an error when the suite is built.
        public init(_ name: String, phases: [String] = [], alpha: Double? = nil, max: Duration? = nil, factor: Double? = nil, tolerance: Double? = nil) {
            self.name = name
            self.phases = phases
            self.alpha = alpha
            self.max = max
            self.factor = factor
            self.tolerance = tolerance
        }

        /// No request in the checked phases was a router error or a transport failure.
        public static let zeroDropped = Check(CheckID.zeroDropped.rawValue)
        /// No request executed upstream more often than the client sent it.
        public static let noDuplicateExecution = Check(CheckID.noDuplicateExecution.rawValue)
        /// In each steady phase, green's share of sessions matches its weight (a binomial test at `alpha`).
        public static let splitAccuracy = Check(CheckID.splitAccuracy.rawValue)
        /// Within a phase, no session was served by both environments.
        public static let stickiness = Check(CheckID.stickiness.rawValue)
        /// Sessions move only in the direction of a weight change.
        public static let monotoneMovement = Check(CheckID.monotoneMovement.rawValue)
        /// After a weight change, green's share reaches the weight within `max`.
        public static let convergenceTime = Check(CheckID.convergenceTime.rawValue)
        /// After a rollback, green serves nothing sent later than `max` after it.
        public static let rollbackTime = Check(CheckID.rollbackTime.rawValue)
        /// A canary asked for while green was down was refused, and green served nothing.
        public static let healthGate = Check(CheckID.healthGate.rawValue)
        /// Around each action, what the router added to latency stays within its budget, judged against the control path.
        public static let latencyBudget = Check(CheckID.latencyBudget.rawValue)
        /// At each action, no request waits more than `max` longer than the control path's slowest at the same moment.
        public static let switchTail = Check(CheckID.switchTail.rawValue)
        /// Every stream open across a switch or restart ended whole.
        public static let streamIntegrity = Check(CheckID.streamIntegrity.rawValue)
        /// The load generator delivered the plan; when it fails, the run is invalid, not failed.
        public static let generatorValid = Check(CheckID.generatorValid.rawValue)
        /// Every injected upstream error reached the client as the upstream sent it.
        public static let faithfulRelay = Check(CheckID.faithfulRelay.rawValue)
        /// Green's weight and the sessions' environments survive a router restart.
        public static let stateSurvivesRestart = Check(CheckID.stateSurvivesRestart.rawValue)
        /// A router killed with requests in flight serves again within `max`; what it lost is bounded to the crash.
        public static let crashRecovery = Check(CheckID.crashRecovery.rawValue)
        /// The router's `X-Environment` header names the environment that executed the request.
        public static let environmentHeader = Check(CheckID.environmentHeader.rawValue)
        /// After a switch to 0 % or 100 %, the environment at weight 0 serves nothing sent later.
        public static let zeroWeightIsolation = Check(CheckID.zeroWeightIsolation.rawValue)
        /// Every router action was accepted (or refused) as the suite expected, at the weight asked for.
        public static let actionsHonoured = Check(CheckID.actionsHonoured.rawValue)
        /// A stream the client abandoned ended upstream too, within `max`.
        public static let cancelPropagation = Check(CheckID.cancelPropagation.rawValue)
        /// Every request reached the upstream as the client sent it (model, messages, `max_tokens`, stream options, session).
        public static let requestIntegrity = Check(CheckID.requestIntegrity.rawValue)

        var json: JSON {
            var pairs: [(String, JSON)] = [("name", .string(name))]
            if !phases.isEmpty { pairs.append(("phases", .array(phases.map(JSON.string)))) }
            if let alpha { pairs.append(("alpha", .double(alpha))) }
            if let max { pairs.append(("max", .string(DurationText.format(max)))) }
            if let factor { pairs.append(("factor", .double(factor))) }
            if let tolerance { pairs.append(("tolerance", .double(tolerance))) }
            return .object(pairs)
        }
    }
}
