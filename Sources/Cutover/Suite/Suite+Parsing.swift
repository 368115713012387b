import ConfigInput
import Foundation
import MockUpstream

extension Suite {
    /// Reads a suite file; every error names the file, the line and the field.
    package static func load(file path: String) throws(ConfigError) -> Suite {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(source: path, line: nil, field: "", message: "cannot read suite file: \(error.localizedDescription)")
        }
        return try parse(yaml: text, source: path)
    }

    /// Parses a suite written in YAML. Unknown keys, wrong types, times out of order,
    /// unknown actions, faults, checks and phases are all errors.
    package static func parse(yaml: String, source: String) throws(ConfigError) -> Suite {
        try parse(root: try ConfigNode.parseYAML(yaml, source: source))
    }

    /// Parses a suite from its document tree (a file's YAML, or a suite built in code
    /// rendered as JSON): both meet the same checks.
    package static func parse(root: ConfigNode) throws(ConfigError) -> Suite {
        let fields = try root.object(allowed: ["name", "description", "seed", "duration", "upstreams", "router", "load", "timeline", "checks", "slo"])
        func required(_ key: String) throws(ConfigError) -> ConfigNode {
            guard let node = fields[key] else { throw root.error("missing '\(key)'") }
            return node
        }
        let name = try required("name").string()
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw fields["name"]!.error("expected a name of letters, digits, '-' or '_', got '\(name)'")
        }
        let durationNode = try required("duration")
        let duration = try durationNode.duration()
        guard duration > .zero, duration <= .seconds(3_600) else { throw durationNode.error("expected a duration between 0s and 1h") }

        var upstreams: [ServedBy: UpstreamSpec] = [.blue: UpstreamSpec(), .green: UpstreamSpec()]
        if let node = fields["upstreams"] {
            for (key, value) in try node.object(allowed: ["blue", "green"]) {
                upstreams[key == "blue" ? .blue : .green] = try parseUpstream(value)
            }
        }
        let timeline = try parseTimeline(try required("timeline"), duration: duration)
        let phases = Set(timeline.compactMap(\.phase))
        var checks: [CheckSpec] = []
        for item in try required("checks").array() {
            checks.append(try parseCheck(item, phases: phases))
        }
        guard !checks.isEmpty else { throw fields["checks"]!.error("expected at least one check") }
        let router = try fields["router"]?.string() ?? "reference"
        guard !router.isEmpty else { throw fields["router"]!.error("expected reference, nginx, haproxy or a profile file") }

        return Suite(
            name: name,
            description: try fields["description"]?.string() ?? "",
            seed: UInt64(try fields["seed"]?.int(in: 0...Int.max) ?? 0),
            duration: duration,
            upstreams: upstreams,
            router: router,
            load: try parseLoad(try required("load")),
            timeline: timeline,
            checks: checks,
            slo: try fields["slo"].map { node throws(ConfigError) in try parseSLO(node) })
    }

    /// `{ttft: 2s, itl: 100ms, headers: 500ms}`, each optional.
    private static func parseSLO(_ node: ConfigNode) throws(ConfigError) -> StreamMetrics.SLO {
        let fields = try node.object(allowed: ["ttft", "itl", "headers"])
        guard !fields.isEmpty else { throw node.error("expected at least one of ttft, itl, headers") }
        func ms(_ key: String) throws(ConfigError) -> Double? {
            guard let field = fields[key] else { return nil }
            let value = try field.duration()
            guard value > .zero else { throw field.error("expected a positive duration such as 500ms") }
            return Double(value.microseconds) / 1000
        }
        return StreamMetrics.SLO(firstTokenMs: try ms("ttft"), interTokenMs: try ms("itl"), headersMs: try ms("headers"))
    }

    private static func parseUpstream(_ node: ConfigNode) throws(ConfigError) -> UpstreamSpec {
        let fields = try node.object(allowed: ["models", "faults", "api_key"])
        var spec = UpstreamSpec()
        if let models = fields["models"] {
            var names: [String] = []
            for item in try models.array() { names.append(try item.string()) }
            guard !names.isEmpty else { throw models.error("expected at least one model") }
            spec.models = names
        }
        if let faults = fields["faults"] { spec.faults = try Fault.parseList(faults) }
        spec.apiKey = try fields["api_key"]?.string()
        return spec
    }

    /// `constant`, `poisson`, or `{type: gamma, burstiness: B}` (B > 0; 1 is Poisson).
    static func parseArrival(_ node: ConfigNode) throws(ConfigError) -> Arrival {
        if case .string = node.value {
            switch try node.choice(["constant", "poisson", "gamma"]) {
            case "constant": return .constant
            case "poisson": return .poisson
            default: throw node.error("a gamma arrival needs its burstiness: {type: gamma, burstiness: 0.5}")
            }
        }
        let fields = try node.object(allowed: ["type", "burstiness"])
        guard let type = fields["type"] else { throw node.error("missing 'type' (constant|poisson|gamma)") }
        switch try type.choice(["constant", "poisson", "gamma"]) {
        case "constant": return .constant
        case "poisson": return .poisson
        default:
            guard let burstiness = fields["burstiness"] else { throw node.error("a gamma arrival needs 'burstiness' (1 is Poisson, below 1 burstier)") }
            return .gamma(burstiness: try burstiness.double(in: 0.01...100))
        }
    }

    private static func parseLoad(_ node: ConfigNode) throws(ConfigError) -> LoadSpec {
        let fields = try node.object(allowed: [
            "model", "rate", "ramp_to", "connections", "sessions", "mix", "models", "timeout", "connect_timeout", "max_in_flight", "arrival", "think_time_ms",
            "turns", "cancel",
        ])
        let kind = try fields["model"]?.choice(["open", "closed"]) ?? (fields["connections"] != nil ? "closed" : "open")
        let model: LoadPlan.Model
        if kind == "open" {
            guard let rate = fields["rate"] else { throw node.error("the open model needs 'rate' (requests per second)") }
            if let connections = fields["connections"] { throw connections.error("'connections' belongs to the closed model; this load is open") }
            model = .open(rate: try rate.double(in: 0.001...1_000_000), rampTo: try fields["ramp_to"]?.double(in: 0.001...1_000_000))
        } else {
            guard let connections = fields["connections"] else { throw node.error("the closed model needs 'connections'") }
            if let rate = fields["rate"] { throw rate.error("'rate' belongs to the open model; this load is closed") }
            if let ramp = fields["ramp_to"] { throw ramp.error("'ramp_to' belongs to the open model; this load is closed") }
            model = .closed(connections: try connections.int(in: 1...100_000))
        }
        var spec = LoadSpec(model: model)
        spec.sessions = try fields["sessions"]?.int(in: 1...10_000_000) ?? spec.sessions
        spec.maxInFlight = try fields["max_in_flight"]?.int(in: 1...100_000) ?? spec.maxInFlight
        if let arrival = fields["arrival"] {
            guard kind == "open" else { throw arrival.error("'arrival' belongs to the open model; this load is closed") }
            spec.arrival = try Self.parseArrival(arrival)
        }
        if let think = fields["think_time_ms"] {
            guard kind == "closed" else { throw think.error("'think_time_ms' belongs to the closed model; this load is open") }
            spec.thinkTimeMs = try LengthDistribution.parse(think, range: 0...3_600_000)
        }
        spec.turns = try fields["turns"]?.int(in: 1...1_000) ?? 1
        if let cancel = fields["cancel"] {
            let parts = try cancel.object(allowed: ["share", "after_ms"])
            guard let share = parts["share"], let after = parts["after_ms"] else {
                throw cancel.error("expected {share: 0.1, after_ms: 2000}: the share of streams abandoned, and when after their send")
            }
            spec.cancellation = LoadPlan.Cancellation(share: try share.double(in: 0...1), afterMs: try LengthDistribution.parse(after, range: 0...3_600_000))
        }
        for (key, path) in [("timeout", \LoadSpec.timeout), ("connect_timeout", \LoadSpec.connectTimeout)] {
            guard let field = fields[key] else { continue }
            let value = try field.duration()
            guard value > .zero, value <= .seconds(3_600) else { throw field.error("expected a duration from 1ms to 1h, got '\(value)'") }
            spec[keyPath: path] = value
        }
        if let mix = fields["mix"] {
            spec.mix = []
            for item in try mix.array() {
                let entry = try item.object(allowed: ["endpoint", "weight", "max_tokens", "prompt_bytes", "client"])
                guard let endpointNode = entry["endpoint"] else { throw item.error("missing 'endpoint' (models|chat|chat-stream)") }
                let endpoint = Endpoint(name: try endpointNode.choice(Endpoint.allCases.map(\.name)))!
                spec.mix.append(
                    LoadPlan.MixEntry(
                        endpoint: endpoint, weight: try entry["weight"]?.double(in: 0.000_001...1e9) ?? 1,
                        tokens: try entry["max_tokens"].map { node throws(ConfigError) in try LengthDistribution.parse(node, range: 1...100_000) }
                            ?? .fixed(16),
                        promptBytes: try entry["prompt_bytes"].map { node throws(ConfigError) in try LengthDistribution.parse(node, range: 1...1_048_576) },
                        client: try entry["client"].map { node throws(ConfigError) in try parseClient(node) } ?? .keepAlive))
            }
            guard !spec.mix.isEmpty else { throw mix.error("expected at least one endpoint") }
        }
        if let models = fields["models"] {
            spec.models = []
            for item in try models.array() {
                if case .string(let name) = item.value {
                    spec.models.append((name, 1))
                } else {
                    let entry = try item.object(allowed: ["name", "weight"])
                    guard let name = entry["name"] else { throw item.error("missing 'name'") }
                    spec.models.append((try name.string(), try entry["weight"]?.double(in: 0.000_001...1e9) ?? 1))
                }
            }
            guard !spec.models.isEmpty else { throw models.error("expected at least one model") }
        }
        return spec
    }

    /// `keep-alive`, `close`, `http1.0`, `h2`, or `{type: slow-reader, bytes_per_second: N}`.
    private static func parseClient(_ node: ConfigNode) throws(ConfigError) -> ClientKind {
        let kinds = ["keep-alive", "close", "http1.0", "h2", "slow-reader"]
        if case .string = node.value {
            switch try node.choice(kinds) {
            case "keep-alive": return .keepAlive
            case "close": return .close
            case "http1.0": return .http10
            case "h2": return .http2
            default: throw node.error("a slow reader needs its rate: {type: slow-reader, bytes_per_second: 2000}")
            }
        }
        let fields = try node.object(allowed: ["type", "bytes_per_second"])
        guard let type = fields["type"] else { throw node.error("missing 'type' (\(kinds.joined(separator: "|")))") }
        guard try type.choice(["slow-reader"]) == "slow-reader", let rate = fields["bytes_per_second"] else {
            throw node.error("a slow reader needs 'bytes_per_second'")
        }
        return .slowReader(bytesPerSecond: try rate.int(in: 1...1_000_000_000))
    }

    private static func parseTimeline(_ node: ConfigNode, duration: Duration) throws(ConfigError) -> [TimelineStep] {
        var steps: [TimelineStep] = []
        var phases = Set<String>()
        for item in try node.array() {
            let fields = try item.object(allowed: ["at", "phase", "action", "percent", "expect", "fault", "heal"])
            guard let atNode = fields["at"] else { throw item.error("missing 'at' (a time such as 5s)") }
            let at = try atNode.duration()
            guard at <= duration else { throw atNode.error("\(DurationText.format(at)) is after the suite's duration (\(DurationText.format(duration)))") }
            if let previous = steps.last, at < previous.at {
                throw atNode.error("times out of order: \(DurationText.format(at)) comes after \(DurationText.format(previous.at))")
            }
            var step = TimelineStep(at: at, phase: nil, event: nil, line: item.line)
            if let phase = fields["phase"] {
                let name = try phase.string()
                guard !name.isEmpty else { throw phase.error("expected a phase name") }
                guard phases.insert(name).inserted else { throw phase.error("phase '\(name)' is already declared") }
                step.phase = name
            }
            let events = ["action", "fault", "heal"].filter { fields[$0] != nil }
            guard events.count <= 1 else { throw item.error("one event per step: found \(events.joined(separator: " and "))") }
            if let action = fields["action"] {
                let name = try action.choice(RouterAction.names)
                if name == RouterAction.Kind.canary.rawValue {
                    guard let percent = fields["percent"] else { throw item.error("action 'canary' needs 'percent' (0...100)") }
                    step.event = .action(.canary(percent: try percent.int(in: 0...100)))
                } else {
                    if let percent = fields["percent"] { throw percent.error("'percent' applies only to action 'canary'") }
                    step.event = .action(RouterAction(name: name)!)
                }
                if let expect = fields["expect"] {
                    step.expect = ActionRecord.Expectation(rawValue: try expect.choice(ActionRecord.Expectation.allCases.map(\.rawValue)))!
                }
            } else if let percent = fields["percent"] {
                throw percent.error("'percent' applies only to action 'canary'")
            } else if let expect = fields["expect"] {
                throw expect.error("'expect' applies only to a step with an 'action'")
            }
            if let fault = fields["fault"] {
                guard case .object(let pairs) = fault.value, let target = pairs.first(where: { $0.key == "target" })?.node else {
                    throw fault.error("expected a fault with 'target' (blue|green) and 'kind'")
                }
                let env: ServedBy = try target.choice(["blue", "green"]) == "blue" ? .blue : .green
                var rest = fault
                rest.value = .object(pairs.filter { $0.key != "target" })
                step.event = .fault(target: env, try Fault.parse(rest, defaultID: "timeline-\(steps.count + 1)"))
            }
            if let heal = fields["heal"] {
                switch heal.value {
                case .string:
                    step.event = .heal(target: try heal.choice(["blue", "green"]) == "blue" ? .blue : .green, id: nil)
                default:
                    let parts = try heal.object(allowed: ["target", "fault"])
                    guard let target = parts["target"] else { throw heal.error("missing 'target' (blue|green)") }
                    step.event = .heal(target: try target.choice(["blue", "green"]) == "blue" ? .blue : .green, id: try parts["fault"]?.string())
                }
            }
            guard step.phase != nil || step.event != nil else {
                throw item.error("a step needs a 'phase', an 'action', a 'fault' or a 'heal'")
            }
            steps.append(step)
        }
        guard !steps.isEmpty else { throw node.error("expected at least one step") }
        return steps
    }

    private static func parseCheck(_ node: ConfigNode, phases: Set<String>) throws(ConfigError) -> CheckSpec {
        let known = CheckCatalog.names.sorted()
        if case .string(let name) = node.value {
            guard CheckCatalog.check(named: name) != nil else { throw node.error("unknown check '\(name)' (known: \(known.joined(separator: ", ")))") }
            return CheckSpec(name: name, line: node.line)
        }
        guard case .object(let pairs) = node.value, let nameNode = pairs.first(where: { $0.key == "name" })?.node else {
            throw node.error("expected a check name or {name: …, parameters}")
        }
        let name = try nameNode.string()
        guard let parameters = CheckCatalog.check(named: name)?.parameters else {
            throw nameNode.error("unknown check '\(name)' (known: \(known.joined(separator: ", ")))")
        }
        let fields = try node.object(allowed: parameters.union(["name"]))
        var check = CheckSpec(name: name, line: node.line)
        if let list = fields["phases"] {
            for item in try list.array() {
                let phase = try item.string()
                guard phases.contains(phase) else {
                    throw item.error("no phase '\(phase)' in the timeline (phases: \(phases.sorted().joined(separator: ", ")))")
                }
                check.phases.append(phase)
            }
        }
        check.alpha = try fields["alpha"]?.double(in: 1e-9...0.5)
        check.max = try fields["max"]?.duration()
        check.factor = try fields["factor"]?.double(in: 1...1_000)
        check.tolerance = try fields["tolerance"]?.double(in: 0...1)
        return check
    }
}
