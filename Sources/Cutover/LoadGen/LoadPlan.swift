import CCurl
import MockUpstream

/// What load to drive: where, how (open or closed model), for how long, and with
/// which mix of endpoints, models and session keys. One seed decides every choice.
package struct LoadPlan: Sendable {
    /// Open: requests arrive on a schedule whether or not earlier ones finished
    /// (latency counts from the schedule). Closed: a fixed number of clients, each
    /// sending the next request when the last one finished.
    package enum Model: Sendable, Equatable {
        case open(rate: Double, rampTo: Double? = nil)
        case closed(connections: Int)
    }

    /// Open model: evenly spaced, Poisson or gamma arrivals.
    package var arrival: Arrival = .constant
    /// Closed model: each client's pause between an answer and its next request, in
    /// milliseconds, drawn per request (nil: none).
    package var thinkTimeMs: LengthDistribution?
    /// Requests per conversation: a session's next request carries the conversation so far
    /// (a growing prompt), which is where stickiness matters most. 1: single requests.
    package var turns = 1
    /// Streams the client abandons on purpose: a router must pass the cancel upstream
    /// (CancelPropagation), or the relay keeps generating for nobody.
    package var cancellation: Cancellation?

    /// A share of streams abandoned after a drawn delay.
    package struct Cancellation: Sendable, Equatable {
        /// The share of streams abandoned, 0...1.
        package var share: Double
        /// How long after its send a stream is abandoned, in milliseconds.
        package var afterMs: LengthDistribution

        package init(share: Double, afterMs: LengthDistribution) {
            self.share = share
            self.afterMs = afterMs
        }
    }

    /// When (µs after its send) the client abandons slot `seq`, or nil when it does not.
    package func cancelAfterUs(forSlot seq: UInt64) -> UInt64? {
        guard let cancellation, mix[choices(for: seq).mixIndex].endpoint == .chatStream,
            SeededRandom.unit(seed: seed, stream: 12, index: seq) < cancellation.share
        else { return nil }
        let ms = cancellation.afterMs.sample(SeededRandom.unit(seed: seed, stream: 13, index: seq), SeededRandom.unit(seed: seed, stream: 14, index: seq))
        return UInt64(max(0, ms)) * 1_000
    }

    /// One entry of the endpoint mix.
    package struct MixEntry: Sendable, Equatable {
        package var endpoint: Endpoint
        package var weight: Double
        /// Output length (`max_tokens`), drawn per request.
        package var tokens: LengthDistribution
        /// Prompt size in bytes of message content, drawn per request; nil sends a short
        /// fixed prompt.
        package var promptBytes: LengthDistribution?
        /// How the client of these requests talks to the router.
        package var client = ClientKind.keepAlive

        package init(endpoint: Endpoint, weight: Double, maxTokens: Int = 16) {
            self.init(endpoint: endpoint, weight: weight, tokens: .fixed(maxTokens))
        }

        package init(
            endpoint: Endpoint, weight: Double, tokens: LengthDistribution, promptBytes: LengthDistribution? = nil, client: ClientKind = .keepAlive
        ) {
            self.endpoint = endpoint
            self.weight = weight
            self.tokens = tokens
            self.promptBytes = promptBytes
            self.client = client
        }

        /// The fixed output length, or the largest one the distribution can draw.
        package var maxTokens: Int {
            get { tokens.bounds.upperBound }
            set { tokens = .fixed(newValue) }
        }

        /// Whether every request of this entry has the same body (so it is built once).
        var fixedBody: Bool {
            if case .fixed = tokens { return promptBytes == nil }
            return false
        }
    }

    /// Base URL of the target (a router or a relay), without `/v1`.
    package var url: String
    package var model: Model
    package var duration: Duration
    /// Session keys in the pool (`s0` … `s<n-1>`), sent as `X-Session-ID`.
    package var sessions = 1_000
    package var mix: [MixEntry] = [MixEntry(endpoint: .chat, weight: 1)] { didSet { mixWeights = mix.map(\.weight) } }
    /// Relay models by weight.
    package var models: [(name: String, weight: Double)] = [("gpt-4.1", 1)] { didSet { modelWeights = models.map(\.weight) } }
    package var seed: UInt64 = 0
    /// Open model: most requests in flight at once; a slot that finds none free waits.
    package var maxInFlight = 4_096
    /// Open model: a slot not sent within this of its intended time is recorded `not-sent`.
    package var maxLag: Duration = .seconds(1)
    /// Per-request limit.
    package var requestTimeout: Duration = .seconds(30)
    /// Limit on connecting (at most `requestTimeout`): a target that does not accept in time
    /// is a `transport` outcome (curl error 28).
    package var connectTimeout: Duration = .seconds(5)
    /// Event loop threads, each with its own libcurl multi handle.
    package var threads = 1
    /// Prefix of request ids: `<runID>-<seq>`.
    package var runID: String = "run"
    /// The stripe of the schedule this generator carries (all of it unless split).
    package var shard = Shard.whole
    /// Extra header on every request (e.g. an API key).
    package var headers: [(name: String, value: String)] = []

    /// A header written `Name: value`, or nil.
    package static func header(parsing text: String) -> (name: String, value: String)? {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let name = text[..<colon].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, !name.contains(" ") else { return nil }
        return (name, text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }
    /// How the target relays answers: what the client digests of each one (its body bytes,
    /// or its content) to match it with the upstream's.
    package var relay = RelayKind.verbatim
    /// Whether the target takes HTTP/2 with prior knowledge (its profile's `http2: true`).
    /// Set through `offerHTTP2(_:)`, which also rewrites the mix.
    package private(set) var http2 = true

    /// A target without HTTP/2 gets the suite's `h2` clients as kept-alive HTTP/1.1: the
    /// same requests at the same times, so a suite runs against every router and says so.
    /// Returns how many mix entries were sent the other way.
    @discardableResult
    package mutating func offerHTTP2(_ offered: Bool) -> Int {
        http2 = offered
        guard !offered else { return 0 }
        var changed = 0
        for index in mix.indices where mix[index].client == .http2 {
            mix[index].client = .keepAlive
            changed += 1
        }
        return changed
    }

    package init(url: String, model: Model, duration: Duration) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.model = model
        self.duration = duration
    }

    /// Why libcurl cannot parse `url` as a target, or nil when it can.
    package static func urlProblem(_ url: String) -> String? {
        guard let handle = curl_url() else { return "out of memory" }
        defer { curl_url_cleanup(handle) }
        let code = curl_url_set(handle, CURLUPART_URL, url + "/v1/models", 0)
        return code == CURLUE_OK ? nil : String(cString: curl_url_strerror(code))
    }

    /// Slots the open model schedules (the closed model's count is known only afterwards).
    package var scheduledCount: Int? {
        guard case .open(let rate, let rampTo) = model else { return nil }
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return Int((rate + (rampTo ?? rate)) / 2 * seconds)
    }

    /// The `max_tokens` of slot `seq`: its mix entry's length distribution, drawn from the
    /// slot's own seeded uniforms.
    package func maxTokens(forSlot seq: UInt64) -> Int { maxTokens(forSlot: seq, mixIndex: choices(for: seq).mixIndex) }

    /// The `max_tokens` of slot `seq`, whose mix entry is already known.
    func maxTokens(forSlot seq: UInt64, mixIndex: Int) -> Int {
        let tokens = mix[mixIndex].tokens
        if case .fixed(let value) = tokens { return value }
        return tokens.sample(SeededRandom.unit(seed: seed, stream: 4, index: seq), SeededRandom.unit(seed: seed, stream: 5, index: seq))
    }

    /// The prompt size in bytes of slot `seq`, or nil for the short fixed prompt.
    package func promptBytes(forSlot seq: UInt64) -> Int? {
        mix[choices(for: seq).mixIndex].promptBytes?.sample(
            SeededRandom.unit(seed: seed, stream: 6, index: seq), SeededRandom.unit(seed: seed, stream: 7, index: seq))
    }

    /// The mix entry chosen for slot `seq`.
    package func mixIndex(forSlot seq: UInt64) -> Int { choices(for: seq).mixIndex }

    /// The endpoint, model and session chosen for slot `seq` (for tests and reports).
    package func choice(forSlot seq: UInt64) -> Choice {
        let choice = choices(for: seq)
        return Choice(endpoint: mix[choice.mixIndex].endpoint, model: models[choice.modelIndex].name, session: choice.session)
    }

    package struct Choice: Equatable, Sendable {
        package var endpoint: Endpoint
        package var model: String
        package var session: UInt32
    }

    /// Slots from one turn of a conversation to the next: the clients in the closed model
    /// (client `c`'s n-th request is slot `n·C + c`), the sessions in the open one (the pool's
    /// sessions take turns in order).
    var conversationStride: UInt64 {
        if case .closed(let connections) = model { return UInt64(max(1, connections)) }
        return UInt64(max(1, sessions))
    }

    /// The turn (0-based) of slot `seq` in its conversation.
    package func turn(ofSlot seq: UInt64) -> Int { turns > 1 ? Int((seq / conversationStride) % UInt64(turns)) : 0 }

    /// The slots of the earlier turns of slot `seq`'s conversation, oldest first.
    package func earlierTurns(ofSlot seq: UInt64) -> [UInt64] {
        let turn = turn(ofSlot: seq)
        return turn == 0 ? [] : (1...turn).reversed().map { seq - UInt64($0) * conversationStride }
    }

    /// The session key of slot `seq`: drawn from the pool, or in conversations the one
    /// its conversation keeps (the open model's pool in order; in the closed model, a key per
    /// client and conversation, from the pool).
    func session(forSlot seq: UInt64) -> UInt32 {
        let pool = UInt64(max(1, sessions))
        guard turns > 1 else { return UInt32(SeededRandom.bits(seed: seed, stream: 3, index: seq) % pool) }
        if case .closed(let connections) = model {
            let clients = UInt64(max(1, connections))
            let conversation = (seq / clients) / UInt64(turns)
            return UInt32((seq % clients + clients * conversation) % pool)
        }
        return UInt32(seq % pool)
    }

    /// The seeded choices for slot `seq`: the mix entry and the model (their indices) and the
    /// session. This runs for every request the generator sends, so it builds nothing.
    func choices(for seq: UInt64) -> (mixIndex: Int, modelIndex: Int, session: UInt32) {
        let u1 = SeededRandom.unit(seed: seed, stream: 1, index: seq)
        let u2 = SeededRandom.unit(seed: seed, stream: 2, index: seq)
        let session = session(forSlot: seq)
        return (Self.pick(mixWeights, u1), Self.pick(modelWeights, u2), session)
    }

    /// The mix entries' and the models' weights, kept beside them for `choices(for:)`.
    private var mixWeights: [Double] = [1]
    private var modelWeights: [Double] = [1]

    /// The index that `u` falls on when items share [0, 1) by `weights`.
    private static func pick(_ weights: [Double], _ u: Double) -> Int {
        if weights.count == 1 { return 0 }
        var x = u * weights.reduce(0, +)
        for (index, weight) in weights.enumerated() {
            x -= weight
            if x < 0 { return index }
        }
        return weights.count - 1
    }
}
