import ConfigInput
import Foundation
import HTTPServerCore

extension Fault {
    /// Fields every fault may have.
    private static let commonKeys: Set<String> = ["id", "kind", "probability", "match"]

    /// Kinds and the extra fields each accepts.
    private static let kindKeys: [String: Set<String>] = [
        "latency": ["distribution"],
        "stream-pace": ["ttft_ms", "tokens_per_second", "jitter_ms", "tokens_per_chunk"],
        "status": ["status", "retry_after", "headers", "message"],
        "outage": ["mode"],
        "body": ["mode"],
        "stream-cut": ["after_chunks"],
        "stream-stall": ["after_chunks", "stall_ms"],
        "stream-error": ["after_chunks"],
        "stream-no-done": [],
        "idle-close": ["idle_ms"],
        "slicer": ["size_bytes", "delay_ms"],
        "limit-data": ["bytes"],
        "bandwidth": ["bytes_per_second"],
    ]

    /// A number, or `{min: A, max: B}` drawn per request.
    private static func range(_ node: ConfigNode, in bounds: ClosedRange<Double>) throws(ConfigError) -> (low: Double, high: Double?) {
        guard case .object = node.value else { return (try node.double(in: bounds), nil) }
        let fields = try node.object(allowed: ["min", "max"])
        guard let low = fields["min"], let high = fields["max"] else { throw node.error("expected a number or {min: A, max: B}") }
        let lowValue = try low.double(in: bounds)
        let highValue = try high.double(in: bounds)
        guard highValue >= lowValue else { throw high.error("expected 'max' at least 'min' (\(lowValue)), got \(highValue)") }
        return (lowValue, highValue)
    }

    /// Parses one fault; `defaultID` names it when the document gives no `id`.
    package static func parse(_ node: ConfigNode, defaultID: String) throws(ConfigError) -> Fault {
        guard case .object(let pairs) = node.value else {
            throw node.error("expected a fault mapping with 'kind', got \(node.kindName)")
        }
        guard let kindNode = pairs.first(where: { $0.key == "kind" })?.node else {
            throw node.error("missing 'kind' (expected one of \(kindKeys.keys.sorted().joined(separator: "|")))")
        }
        let kindName = try kindNode.choice(kindKeys.keys.sorted())
        let fields = try node.object(allowed: commonKeys.union(kindKeys[kindName] ?? []))

        let id = try fields["id"]?.string() ?? defaultID
        guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw (fields["id"] ?? node).error("expected an id of letters, digits, '-', '_' or '.', got '\(id)'")
        }
        let probability = try fields["probability"]?.double(in: 0...1) ?? 1
        let match = try fields["match"].map { node throws(ConfigError) in try Match.parse(node) } ?? Match()
        let kind = try parseKind(kindName, fields: fields, node: node)

        let fault = Fault(id: id, kind: kind, probability: probability, match: match)
        if fault.isListenerOutage, probability != 1 || !match.isEmpty {
            throw node.error("outage mode 'refuse' closes the whole listener: 'probability' and 'match' do not apply")
        }
        return fault
    }

    /// Parses a list of faults, giving ids to those without one (not clashing with `existing`)
    /// and rejecting duplicates within the list.
    package static func parseList(_ node: ConfigNode, existing: [Fault] = []) throws(ConfigError) -> [Fault] {
        var faults: [Fault] = []
        var taken = Set(existing.map(\.id))
        var seen = Set<String>()
        for (index, item) in try node.array().enumerated() {
            var n = existing.count + index + 1
            while taken.contains("fault-\(n)") { n += 1 }
            let fault = try parse(item, defaultID: "fault-\(n)")
            guard seen.insert(fault.id).inserted else {
                throw item.error("duplicate fault id '\(fault.id)' in this list")
            }
            taken.insert(fault.id)
            faults.append(fault)
        }
        return faults
    }

    private static func parseKind(_ name: String, fields: [String: ConfigNode], node: ConfigNode) throws(ConfigError) -> Kind {
        func required(_ key: String) throws(ConfigError) -> ConfigNode {
            guard let value = fields[key] else { throw node.error("kind '\(name)' needs '\(key)'") }
            return value
        }
        switch name {
        case "latency":
            return .latency(try parseDistribution(try required("distribution")))
        case "stream-pace":
            guard fields["ttft_ms"] != nil || fields["tokens_per_second"] != nil else {
                throw node.error("kind 'stream-pace' needs 'ttft_ms' and/or 'tokens_per_second'")
            }
            let ttft = try fields["ttft_ms"].map { node throws(ConfigError) in try Self.range(node, in: 0...600_000) } ?? (low: 0, high: nil)
            let tps =
                try fields["tokens_per_second"].map { node throws(ConfigError) in try Self.range(node, in: 0.001...1_000_000) } ?? (low: 1_000_000, high: nil)
            return .streamPace(
                ttftMs: ttft.low, tokensPerSecond: tps.low, jitterMs: try fields["jitter_ms"]?.double(in: 0...600_000) ?? 0,
                tokensPerChunk: try fields["tokens_per_chunk"]?.int(in: 1...10_000) ?? 1, ttftMaxMs: ttft.high, tokensPerSecondMax: tps.high
            )
        case "status":
            let code = try required("status").int(in: 400...599)
            var retryAfter: RetryAfter?
            if let node = fields["retry_after"] {
                switch node.value {
                case .int: retryAfter = .seconds(try node.int(in: 0...86_400 * 365))
                case .string(let text):
                    guard Self.httpDate.date(from: text) != nil else {
                        throw node.error("expected seconds or an HTTP date like 'Wed, 21 Oct 2026 07:28:00 GMT', got '\(text)'")
                    }
                    retryAfter = .date(text)
                default: throw node.error("expected seconds or an HTTP date, got \(node.kindName)")
                }
            }
            var headers: [Header] = []
            if let headerNode = fields["headers"] {
                guard case .object(let pairs) = headerNode.value else {
                    throw headerNode.error("expected a mapping of header names to values, got \(headerNode.kindName)")
                }
                for (key, valueNode) in pairs {
                    guard !key.isEmpty, key.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }) else {
                        throw valueNode.error("'\(key)' is not a valid header name")
                    }
                    let value: String
                    switch valueNode.value {
                    case .string(let s): value = s
                    case .int(let n): value = String(n)
                    default: throw valueNode.error("expected a string, got \(valueNode.kindName)")
                    }
                    guard !value.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                        throw valueNode.error("header values must not contain line breaks")
                    }
                    headers.append(Header(name: key, value: value))
                }
            }
            return .status(code: code, retryAfter: retryAfter, headers: headers, message: try fields["message"]?.string())
        case "outage":
            return .outage(OutageMode(rawValue: try required("mode").choice(OutageMode.allCases.map(\.rawValue)))!)
        case "body":
            return .body(BodyMode(rawValue: try required("mode").choice(BodyMode.allCases.map(\.rawValue)))!)
        case "stream-cut":
            return .streamCut(afterChunks: try required("after_chunks").int(in: 0...1_000_000))
        case "stream-stall":
            return .streamStall(
                afterChunks: try required("after_chunks").int(in: 0...1_000_000),
                stallMs: try required("stall_ms").double(in: 0...600_000)
            )
        case "stream-error":
            return .streamError(afterChunks: try required("after_chunks").int(in: 0...1_000_000))
        case "idle-close":
            return .idleClose(try parseDistribution(try required("idle_ms")))
        case "slicer":
            return .slicer(sizeBytes: try required("size_bytes").int(in: 1...1 << 20), delayMs: try required("delay_ms").double(in: 0...60_000))
        case "limit-data":
            return .limitData(bytes: try required("bytes").int(in: 0...1 << 30))
        case "bandwidth":
            return .bandwidth(bytesPerSecond: try required("bytes_per_second").int(in: 1...1 << 30))
        default:
            return .streamNoDone
        }
    }

    private static let distributionKeys: [String: [String]] = [
        "fixed": ["ms"],
        "uniform": ["min_ms", "max_ms"],
        "normal": ["mean_ms", "stddev_ms"],
        "lognormal": ["median_ms", "sigma"],
        "pareto": ["scale_ms", "shape"],
    ]

    private static func parseDistribution(_ node: ConfigNode) throws(ConfigError) -> LatencyDistribution {
        guard case .object(let pairs) = node.value, let typeNode = pairs.first(where: { $0.key == "type" })?.node else {
            throw node.error("expected a mapping with 'type' (fixed|uniform|normal|lognormal|pareto)")
        }
        let type = try typeNode.choice(["fixed", "uniform", "normal", "lognormal", "pareto"])
        let keys = distributionKeys[type]!
        var allowed = Set(keys + ["type"])
        if type != "fixed" && type != "uniform" { allowed.insert("cap_ms") }
        let fields = try node.object(allowed: allowed)
        var values: [String: Double] = [:]
        for key in keys {
            guard let field = fields[key] else { throw node.error("distribution '\(type)' needs '\(key)'") }
            values[key] = try field.double(in: 0...600_000)
        }
        let cap = try fields["cap_ms"]?.double(in: 0...600_000) ?? LatencyDistribution.defaultCapMs
        switch type {
        case "fixed":
            return .fixed(ms: values["ms"]!)
        case "uniform":
            guard values["min_ms"]! <= values["max_ms"]! else { throw fields["max_ms"]!.error("must be >= min_ms") }
            return .uniform(minMs: values["min_ms"]!, maxMs: values["max_ms"]!)
        case "normal":
            return .normal(meanMs: values["mean_ms"]!, stddevMs: values["stddev_ms"]!, capMs: cap)
        case "lognormal":
            return .lognormal(medianMs: values["median_ms"]!, sigma: values["sigma"]!, capMs: cap)
        default:
            guard values["shape"]! > 0 else { throw fields["shape"]!.error("must be > 0") }
            return .pareto(scaleMs: values["scale_ms"]!, shape: values["shape"]!, capMs: cap)
        }
    }

    /// RFC 7231 IMF-fixdate.
    static let httpDate: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter
    }()
}

extension Fault.Match {
    static func parse(_ node: ConfigNode) throws(ConfigError) -> Fault.Match {
        let fields = try node.object(allowed: ["path", "stream", "model"])
        return Fault.Match(
            path: try fields["path"]?.string(),
            stream: try fields["stream"]?.bool(),
            model: try fields["model"]?.string()
        )
    }
}

// MARK: - JSON form

extension Fault {
    /// The fault as the admin API shows it; parsing this form gives the same fault back.
    package var json: JSON {
        var pairs: [(String, JSON)] = [("id", .string(id)), ("kind", .string(kind.name))]
        if probability != 1 { pairs.append(("probability", .double(probability))) }
        if !match.isEmpty {
            var m: [(String, JSON)] = []
            if let path = match.path { m.append(("path", .string(path))) }
            if let stream = match.stream { m.append(("stream", .bool(stream))) }
            if let model = match.model { m.append(("model", .string(model))) }
            pairs.append(("match", .object(m)))
        }
        switch kind {
        case .latency(let distribution):
            pairs.append(("distribution", distribution.json))
        case .streamPace(let ttft, let tps, let jitter, let perChunk, let ttftMax, let tpsMax):
            func value(_ low: Double, _ high: Double?) -> JSON { high.map { .object([("min", .double(low)), ("max", .double($0))]) } ?? .double(low) }
            pairs += [
                ("ttft_ms", value(ttft, ttftMax)), ("tokens_per_second", value(tps, tpsMax)), ("jitter_ms", .double(jitter)),
                ("tokens_per_chunk", .int(perChunk)),
            ]
        case .status(let code, let retryAfter, let headers, let message):
            pairs.append(("status", .int(code)))
            switch retryAfter {
            case .seconds(let s): pairs.append(("retry_after", .int(s)))
            case .date(let d): pairs.append(("retry_after", .string(d)))
            case nil: break
            }
            if !headers.isEmpty { pairs.append(("headers", .object(headers.map { ($0.name, .string($0.value)) }))) }
            if let message { pairs.append(("message", .string(message))) }
        case .outage(let mode):
            pairs.append(("mode", .string(mode.rawValue)))
        case .body(let mode):
            pairs.append(("mode", .string(mode.rawValue)))
        case .streamCut(let after), .streamError(let after):
            pairs.append(("after_chunks", .int(after)))
        case .streamStall(let after, let stall):
            pairs += [("after_chunks", .int(after)), ("stall_ms", .double(stall))]
        case .streamNoDone:
            break
        case .idleClose(let distribution):
            pairs.append(("idle_ms", distribution.json))
        case .slicer(let size, let delay):
            pairs += [("size_bytes", .int(size)), ("delay_ms", .double(delay))]
        case .limitData(let bytes):
            pairs.append(("bytes", .int(bytes)))
        case .bandwidth(let rate):
            pairs.append(("bytes_per_second", .int(rate)))
        }
        return .object(pairs)
    }
}

extension LatencyDistribution {
    var json: JSON {
        switch self {
        case .fixed(let ms): .object([("type", .string("fixed")), ("ms", .double(ms))])
        case .uniform(let lo, let hi): .object([("type", .string("uniform")), ("min_ms", .double(lo)), ("max_ms", .double(hi))])
        case .normal(let mean, let sd, let cap):
            .object([("type", .string("normal")), ("mean_ms", .double(mean)), ("stddev_ms", .double(sd)), ("cap_ms", .double(cap))])
        case .lognormal(let median, let sigma, let cap):
            .object([("type", .string("lognormal")), ("median_ms", .double(median)), ("sigma", .double(sigma)), ("cap_ms", .double(cap))])
        case .pareto(let scale, let shape, let cap):
            .object([("type", .string("pareto")), ("scale_ms", .double(scale)), ("shape", .double(shape)), ("cap_ms", .double(cap))])
        }
    }
}
