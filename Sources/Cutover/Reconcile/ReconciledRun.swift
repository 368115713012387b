import HTTPServerCore
import MockUpstream

/// The run's history joined once: every request's upstream executions (from both mock
/// ledgers), the environment that really served it, its outcome settled against the
/// upstream's evidence, and the list of weight changes. Checks read only this; none
/// re-joins the ledgers itself.
///
/// Every exchange is judged end to end (SPEC §3):
/// - every upstream execution counts: an entry is attributed to the client request whose
///   identity its body carries (or, for a body without one, its `X-Request-ID`), else it is
///   the router's own health probe by its documented shape (`isProbe`), else unattributed;
/// - the answer the client got must be the upstream's answer to this very request: the
///   echoed `X-Request-ID` is this request's, and its digest (the body bytes for a
///   `verbatim` relay, the content for a `semantic` one) equals the execution's;
/// - every attempt is evidence: a POST that libcurl had to send again was dropped.
///
/// The environment that served a request is the one whose ledger holds the execution
/// that answered it. The router's `X-Environment` header is its own word: where it
/// disagrees, that is a finding (`EnvironmentHeader`), never the truth.
package struct ReconciledRun: Sendable {
    package let history: RunHistory
    /// The client ledger with `servedBy` and `outcome` settled from upstream evidence.
    package let ledger: ClientLedger
    /// Accepted actions that moved green's weight, in order.
    package let weightChanges: [WeightChange]
    /// Records (by index) whose router header named another environment than the one
    /// that executed them.
    package let headerDisagreements: [UInt32]
    /// Why the upstream evidence is incomplete; empty when both ledgers hold everything.
    package let evidenceGaps: [String]
    /// What the machine did without the router: timing checks ask it before they blame.
    package let machine: ControlPath
    /// How answers were matched with the upstreams' (the router profile's `relay:`).
    package let relay: RelayKind
    /// What reconciliation found about single exchanges, by record index: why a 2xx was
    /// dropped, or a replay. Sparse.
    package let findings: [Int: ExchangeFinding]
    /// Slots that waited for a transfer slot because every one was held by the router
    /// (never sent, or sent late), and whether the machine was quiet meanwhile, which makes
    /// them the router's back-pressure rather than the generator's lateness.
    package let backPressure: BackPressure

    /// Upstream executions per record (by index in the ledger; saturating at 255).
    private let executionCounts: [UInt8]
    /// The execution that answered each record, or `.none`.
    private let answers: [Execution.Reference]
    /// Record index by sequence number, for ledgers whose records are not exactly
    /// `0..<count` (test histories); nil when the index is the sequence number.
    private let sparseIndex: [UInt32: Int]?
    /// Every execution of the requests executed more than once.
    private let repeated: [UInt32: [Execution.Reference]]
    /// Whose each entry of each ledger is: a record index (≥ 0), or one of the codes below.
    private let blueOwners: [Int32]
    private let greenOwners: [Int32]
    private static let probe: Int32 = -1
    private static let unattributed: Int32 = -2
    private static let stray: Int32 = -3
    /// Executions of ids past the schedule (none from a correct harness), by sequence number.
    let strays: [Int: Int]
    private let blueEntries: [LedgerEntry]
    private let greenEntries: [LedgerEntry]
    private let faultIndex: FaultIndex

    package var records: [LedgerRecord] { ledger.records }
    package var phases: [PhaseWindow] { history.phases }
    package var actions: [ActionRecord] { history.actions }
    package var faults: [FaultWindow] { history.faults }
    /// Whose health gate the canaries met.
    package var gate: RouterGate { history.gate }
    package var weightSource: WeightSource { history.weightSource }

    /// Green's weight as the router reported it before and after `action`; nil when the only
    /// figures are the driver's own record, which certify nothing about the router.
    package func reportedWeights(_ action: ActionRecord) -> (before: Int?, after: Int?)? {
        weightSource == .router ? (action.reportedWeightBefore, action.reportedWeightAfter) : nil
    }

    /// Each accepted crash, from the kill to the return of the harness's call that started the
    /// router again: what it lost is CrashRecovery's, which ZeroDropped leaves out.
    package var crashSpans: [(from: UInt32, to: UInt32)] {
        actions.filter { $0.action == .crash && $0.accepted }.map { ($0.calledUs, $0.returnedUs) }
    }

    /// Whether `record` was in flight at a crash or sent while it lasted.
    package func metCrash(_ record: LedgerRecord, _ spans: [(from: UInt32, to: UInt32)]) -> Bool {
        let end = record.doneUs == 0 ? UInt32.max : record.doneUs
        return spans.contains { record.sentUs < $0.to && end > $0.from }
    }
    package var plan: LoadPlan? { history.plan }
    package var runID: String { ledger.runID }

    package init(_ history: RunHistory) {
        self.history = history
        let relay = history.relay.kind
        self.relay = relay
        let raw = history.client.records
        blueEntries = history.upstream[.blue] ?? []
        greenEntries = history.upstream[.green] ?? []
        faultIndex = FaultIndex(history.faults)

        let dense = raw.indices.allSatisfy { raw[$0].seq == UInt32(truncatingIfNeeded: $0) }
        let sparse = dense ? nil : Dictionary(raw.indices.map { (raw[$0].seq, $0) }, uniquingKeysWith: { first, _ in first })
        var counts = [UInt8](repeating: 0, count: raw.count)
        var answers = [Execution.Reference](repeating: .none, count: raw.count)
        var repeated: [UInt32: [Execution.Reference]] = [:]
        var strays: [Int: Int] = [:]
        var owners: [ServedBy: [Int32]] = [:]
        for (env, entries) in [(ServedBy.blue, blueEntries), (.green, greenEntries)] {
            var envOwners = [Int32](repeating: Self.unattributed, count: entries.count)
            for (index, entry) in entries.enumerated() {
                // The body says which request it is; a body without an identity (a GET) has only its header.
                let seq = entry.bodyRequestID.map(history.requestSeq) ?? history.requestSeq(entry.requestID)
                guard let seq else {
                    envOwners[index] = Self.isProbe(entry) ? Self.probe : Self.unattributed
                    continue
                }
                guard let at = sparse.map({ $0[UInt32(truncatingIfNeeded: seq)] }) ?? (seq < raw.count ? seq : nil), seq <= Int(UInt32.max) else {
                    strays[seq, default: 0] += 1
                    envOwners[index] = Self.stray
                    continue
                }
                envOwners[index] = Int32(at)
                let reference = Execution.Reference(env: env, index: index)
                counts[at] = counts[at] &+ (counts[at] < 255 ? 1 : 0)
                if answers[at] == .none {
                    answers[at] = reference
                } else {
                    repeated[UInt32(at), default: [answers[at]]].append(reference)
                }
            }
            owners[env] = envOwners
        }
        let blue = blueEntries
        let green = greenEntries
        func entry(_ reference: Execution.Reference) -> LedgerEntry {
            reference.env == .green ? green[reference.index] : blue[reference.index]
        }
        for (at, all) in repeated {
            // Of several executions, the one the client got: the same answer, else its
            // environment's stamp and status, else the latest.
            let record = raw[Int(at)]
            answers[Int(at)] =
                all.last { Self.digest(entry($0), relay) == record.answerDigest }
                ?? all.last { $0.env == record.servedBy && entry($0).status == Int(record.status) }
                ?? all.max { entry($0).arrivalMs < entry($1).arrivalMs }!
        }
        var records = raw
        var disagreements: [UInt32] = []
        var findings: [Int: ExchangeFinding] = [:]
        for index in records.indices where records[index].outcome != .notSent {
            let reference = answers[index]
            let answered = reference == .none ? nil : Execution(env: reference.env, entry: entry(reference), attribution: .request(index))
            records[index].servedBy = answered?.env ?? .unknown
            // An abandoned request stays the client's doing, whatever the upstream did.
            if records[index].outcome != .cancelled {
                let (outcome, finding) = Self.settle(records[index], answered, history.client, faultIndex, relay)
                records[index].outcome = outcome
                if let finding { findings[index] = finding }
                if records[index].attempts > 1 {
                    if records[index].endpoint != .models {
                        records[index].outcome = .transport
                        findings[index] = .firstAttemptUnanswered
                    } else if finding == nil {
                        findings[index] = .replayedGet
                    }
                }
            }
            let said = records[index].routerHeader
            if said != .unknown, let answered, said != answered.env { disagreements.append(UInt32(index)) }
        }
        // An altered answer may be another request's: its digest is another execution's.
        let altered = findings.filter { $0.value == .alteredAnswer }.map(\.key)
        if !altered.isEmpty {
            var byDigest: [UInt64: Int32] = [:]
            for (entries, envOwners) in [(blue, owners[.blue]!), (green, owners[.green]!)] {
                // An empty body is everyone's: it names no request.
                for (index, entry) in entries.enumerated() where relay == .semantic || entry.bodyDigest != Digest64().value {
                    if let digest = Self.digest(entry, relay) { byDigest[digest] = envOwners[index] }
                }
            }
            for index in altered {
                if let owner = byDigest[records[index].answerDigest], owner != Int32(index) { findings[index] = .anotherRequestsAnswer }
            }
        }
        var gaps: [String] = []
        for env in [ServedBy.blue, .green] {
            if let dropped = history.upstreamLedgerDropped[env], dropped > 0 {
                gaps.append("\(env.name)'s ledger was full and dropped its \(dropped) oldest entries")
            }
        }
        ledger = history.client.replacing(records: records)
        sparseIndex = sparse
        executionCounts = counts
        self.answers = answers
        self.repeated = repeated
        self.strays = strays
        self.findings = findings
        blueOwners = owners[.blue]!
        greenOwners = owners[.green]!
        headerDisagreements = disagreements
        evidenceGaps = gaps
        weightChanges = Self.weightChanges(history.actions)
        let machine = ControlPath(control: history.control, records: raw)
        self.machine = machine
        backPressure = BackPressure(records: records, machine: machine, maxLagUs: UInt32(clamping: history.plan?.maxLag.microseconds ?? 1_000_000))
    }

    /// The router's own health probe, by its documented shape: it carries no identity of
    /// the run (checked before), and is a `GET`, or a non-streamed chat completion of at
    /// most 16 tokens whose messages were read. Anything else without an identity is an
    /// unattributed execution, which no correct router makes.
    static func isProbe(_ entry: LedgerEntry) -> Bool {
        guard entry.bodyRequestID == nil else { return false }
        if entry.method == "GET" || entry.method == "HEAD" { return true }
        return entry.method == "POST" && entry.path == "/v1/chat/completions" && !entry.stream && entry.messagesDigest != nil
            && (entry.maxTokens ?? ChatRequest.defaultMaxTokens) <= 16
    }

    /// What of an upstream's answer the client's digest is compared with.
    static func digest(_ entry: LedgerEntry, _ relay: RelayKind) -> UInt64? {
        relay == .verbatim ? entry.bodyDigest : entry.contentDigest
    }

    /// The outcome a request really had, from the client's record and the execution that
    /// answered it (SPEC §3), and the finding behind a dropped 2xx. An excuse needs the
    /// upstream's stamp *and* its ledger.
    static func settle(
        _ record: LedgerRecord, _ answered: Execution?, _ client: ClientLedger, _ faults: FaultIndex, _ relay: RelayKind = .verbatim
    ) -> (Outcome, ExchangeFinding?) {
        let stamped = client.faultIDs(record)
        /// The upstream's ledger holds an injected fault of `kind` for this execution, and the
        /// client relayed its stamp (a gateway that renames headers can show only content).
        func injected(_ kind: (FaultWindow) -> Bool) -> Bool {
            guard let answered else { return false }
            return answered.entry.faults.contains { id in (relay == .semantic || stamped.contains(Substring(id))) && faults.has(answered.env, id, kind) }
        }
        let sameAnswer =
            answered.map { answered in
                record.answerDigest == digest(answered.entry, relay) && (relay == .semantic || Int(record.bytes) == answered.entry.bytes)
            } ?? false
        // The upstream went down under the exchange (an outage closed its port in flight), or
        // an outage fault reset or hung this very execution: no router can answer for it.
        let cutByUpstream =
            answered.map { answered in
                if let cause = answered.entry.interruptedBy { return faults.has(answered.env, cause, \.isOutage) }
                guard answered.entry.outcome == .reset || answered.entry.outcome == .hung else { return false }
                return answered.entry.faults.contains { faults.has(answered.env, $0, \.isOutage) }
            } ?? false
        if record.curlCode != 0 || (200..<300).contains(record.status) {
            let complete = record.curlCode == 0 && (record.endpoint != .chatStream || record.sawDone)
            guard let answered else {
                // A chat answer no upstream executed is a cached or made-up one; a model list
                // may be the router's own.
                if complete { return record.endpoint == .models ? (.ok, nil) : (.transport, .noUpstreamExecution) }
                return (.transport, record.bytes > 0 ? .shortAnswer : nil)
            }
            if record.echoedAnotherID { return (.transport, .anotherRequestsAnswer) }
            if !complete, cutByUpstream { return (.upstreamFault, nil) }
            // The upstream broke the body on purpose: relayed faithfully when the client got
            // exactly the bytes it sent, or (a re-encoding gateway) saw the break.
            if injected(\.breaksBody), relay == .verbatim ? sameAnswer : !complete { return (.upstreamFault, nil) }
            // A whole answer, the upstream's to this very request.
            if complete, sameAnswer, (200..<300).contains(answered.entry.status ?? 0) { return (.ok, nil) }
            return (.transport, complete ? .alteredAnswer : .shortAnswer)
        }
        // A non-2xx: the upstream's injected error, relayed with its status, the router's
        // word for an upstream that went down under the exchange, or the router's own.
        if let answered, answered.entry.status == Int(record.status), injected(\.isStatus), relay == .verbatim || sameAnswer { return (.upstreamFault, nil) }
        if cutByUpstream, (502...504).contains(record.status) { return (.upstreamFault, nil) }
        return (.routerError, nil)
    }

    static func weightChanges(_ actions: [ActionRecord]) -> [WeightChange] {
        var weight = 0
        var changes: [WeightChange] = []
        for (index, action) in actions.enumerated() {
            guard let to = action.greenWeight, to != weight else { continue }
            changes.append(
                WeightChange(actionIndex: index, action: action.action, calledUs: action.calledUs, returnedUs: action.returnedUs, from: weight, to: to))
            weight = to
        }
        return changes
    }

    // MARK: - Reading it

    package func requestID(_ record: LedgerRecord) -> String { ledger.requestID(record) }

    /// The index in `records` of request `seq`.
    package func index(ofSeq seq: UInt32) -> Int? {
        if let sparseIndex { return sparseIndex[seq] }
        return Int(seq) < records.count ? Int(seq) : nil
    }

    /// The record of request `seq`.
    package func record(seq: UInt32) -> LedgerRecord? { index(ofSeq: seq).map { records[$0] } }

    /// What reconciliation found about request `seq`, if anything.
    package func finding(_ seq: UInt32) -> ExchangeFinding? { index(ofSeq: seq).flatMap { findings[$0] } }

    /// How many times request `seq` was executed upstream (copies included).
    package func executionCount(_ seq: UInt32) -> Int { index(ofSeq: seq).map { Int(executionCounts[$0]) } ?? 0 }

    /// The upstream execution that answered request `seq`.
    package func answer(_ seq: UInt32) -> Execution? {
        guard let at = index(ofSeq: seq), answers[at] != .none else { return nil }
        return execution(answers[at])
    }

    /// Every upstream execution of request `seq`, in ledger order.
    package func executions(_ seq: UInt32) -> [Execution] {
        if let at = index(ofSeq: seq), let all = repeated[UInt32(at)] { return all.map(execution) }
        return answer(seq).map { [$0] } ?? []
    }

    private func execution(_ reference: Execution.Reference) -> Execution {
        execution(reference.env, reference.index)
    }

    private func execution(_ env: ServedBy, _ index: Int) -> Execution {
        let entry = env == .green ? greenEntries[index] : blueEntries[index]
        let owner = env == .green ? greenOwners[index] : blueOwners[index]
        let attribution: Execution.Attribution
        switch owner {
        case Self.probe: attribution = .probe
        case Self.unattributed: attribution = .unattributed
        case Self.stray: attribution = .stray(history.requestSeq(entry.bodyRequestID ?? entry.requestID) ?? -1)
        default: attribution = .request(Int(owner))
        }
        return Execution(env: env, entry: entry, attribution: attribution)
    }

    /// Upstream executions on `env` that are not the router's health probes (the run's
    /// requests, their copies, and what cannot be attributed) and satisfy `predicate`, which
    /// is tested first because it is cheaper.
    package func executions(on env: ServedBy, where predicate: (LedgerEntry) -> Bool = { _ in true }) -> [Execution] {
        let entries = env == .green ? greenEntries : blueEntries
        let owners = env == .green ? greenOwners : blueOwners
        return entries.indices.compactMap { index in
            owners[index] != Self.probe && predicate(entries[index]) ? execution(env, index) : nil
        }
    }

    /// Calls `body` with every execution on `env` attributed to one of the run's requests
    /// (its index in `records`), in ledger order, without building `Execution`s: for
    /// checks that read every execution of a million-request run.
    package func forEachAttributed(on env: ServedBy, _ body: (_ record: Int, _ entry: LedgerEntry) -> Void) {
        let entries = env == .green ? greenEntries : blueEntries
        let owners = env == .green ? greenOwners : blueOwners
        for index in entries.indices where owners[index] >= 0 { body(Int(owners[index]), entries[index]) }
    }

    /// Whether an upstream entry carries request `seq`'s own `X-Request-ID`.
    package func carriesOwnID(_ entry: LedgerEntry, seq: UInt32) -> Bool { history.requestSeq(entry.requestID) == Int(seq) }

    /// Executions on `env` that carry no identity the harness can attribute and are no probe.
    package func unattributed(on env: ServedBy) -> [LedgerEntry] {
        let entries = env == .green ? greenEntries : blueEntries
        let owners = env == .green ? greenOwners : blueOwners
        return entries.indices.filter { owners[$0] == Self.unattributed }.map { entries[$0] }
    }

    /// The router's health probes each upstream received.
    package func probeCount(on env: ServedBy) -> Int { (env == .green ? greenOwners : blueOwners).lazy.filter { $0 == Self.probe }.count }

    /// The run-clock time (µs) of an upstream ledger entry's arrival.
    package func runMicros(ofArrival entry: LedgerEntry) -> Double { history.runMicros(ofArrival: entry) }

    /// The run-clock time (µs) of an upstream ledger entry's end (`finishMs`).
    package func runMicros(ofFinish finishMs: Double) -> Double { history.runMicros(ofWallMs: finishMs) }

    /// The fault windows on `env` with this id.
    package func faultWindows(on env: ServedBy, id: String) -> [FaultWindow] { faultIndex.windows(env, id) }

    /// The phases a check asked for (all when `names` is empty).
    package func phases(named names: [String]) -> [PhaseWindow] {
        names.isEmpty ? phases : phases.filter { names.contains($0.name) }
    }

    /// Records certainly routed under the weight of one of `windows`.
    package func routedRecords(in windows: [PhaseWindow]) -> [LedgerRecord] {
        records.filter { record in windows.contains { $0.routed(record) } }
    }

    /// Records scheduled inside the stretch of any of `windows`.
    package func records(in windows: [PhaseWindow]) -> [LedgerRecord] {
        records.filter { record in windows.contains { $0.contains(record) } }
    }
}

/// Fault windows by environment and id, and which ids are of which kind.
struct FaultIndex: Sendable {
    private var byID: [ServedBy: [String: [FaultWindow]]] = [:]

    init(_ windows: [FaultWindow]) {
        for window in windows { byID[window.target, default: [:]][window.id, default: []].append(window) }
    }

    func windows(_ env: ServedBy, _ id: String) -> [FaultWindow] { byID[env]?[id] ?? [] }

    /// Whether a fault with this id on `env` is of the kind `kind` tests.
    func has(_ env: ServedBy, _ id: String, _ kind: (FaultWindow) -> Bool) -> Bool {
        byID[env]?[id]?.contains(where: kind) ?? false
    }
}
