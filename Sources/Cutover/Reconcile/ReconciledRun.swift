import MockUpstream

/// The run's history joined once: every request's upstream executions (from both mock
/// ledgers), the environment that really served it, its outcome settled against the
/// upstream's evidence, and the list of weight changes. Checks read only this; none
/// re-joins the ledgers itself.
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

    /// Upstream executions per record (by index in the ledger; saturating at 255).
    private let executionCounts: [UInt8]
    /// The execution that answered each record, or `.none`.
    private let answers: [Execution.Reference]
    /// Record index by sequence number, for ledgers whose records are not exactly
    /// `0..<count` (test histories); nil when the index is the sequence number.
    private let sparseIndex: [UInt32: Int]?
    /// Every execution of the requests executed more than once.
    private let repeated: [UInt32: [Execution.Reference]]
    /// Executions of ids past the schedule (none from a correct harness), by sequence number.
    let strays: [Int: Int]
    private let blueEntries: [LedgerEntry]
    private let greenEntries: [LedgerEntry]
    private let faultIndex: FaultIndex

    package var records: [LedgerRecord] { ledger.records }
    package var phases: [PhaseWindow] { history.phases }
    package var actions: [ActionRecord] { history.actions }
    package var faults: [FaultWindow] { history.faults }
    package var plan: LoadPlan? { history.plan }
    package var runID: String { ledger.runID }

    package init(_ history: RunHistory) {
        self.history = history
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
        for (env, entries) in [(ServedBy.blue, blueEntries), (.green, greenEntries)] {
            for (index, entry) in entries.enumerated() {
                guard let seq = history.requestSeq(entry.requestID) else { continue }
                guard let at = sparse.map({ $0[UInt32(truncatingIfNeeded: seq)] }) ?? (seq < raw.count ? seq : nil), seq <= Int(UInt32.max) else {
                    strays[seq, default: 0] += 1
                    continue
                }
                let reference = Execution.Reference(env: env, index: index)
                counts[at] = counts[at] &+ (counts[at] < 255 ? 1 : 0)
                if answers[at] == .none {
                    answers[at] = reference
                } else {
                    repeated[UInt32(at), default: [answers[at]]].append(reference)
                }
            }
        }
        var records = raw
        var disagreements: [UInt32] = []
        let blue = blueEntries
        let green = greenEntries
        func entry(_ reference: Execution.Reference) -> LedgerEntry {
            reference.env == .green ? green[reference.index] : blue[reference.index]
        }
        for (at, all) in repeated {
            // Of several executions, the one the client got: its stamp and status match.
            let record = raw[Int(at)]
            answers[Int(at)] =
                all.last { $0.env == record.servedBy && entry($0).status == Int(record.status) } ?? all.max { entry($0).arrivalMs < entry($1).arrivalMs }!
        }
        for index in records.indices where records[index].outcome != .notSent {
            let reference = answers[index]
            let answered = reference == .none ? nil : Execution(env: reference.env, entry: entry(reference))
            records[index].servedBy = answered?.env ?? .unknown
            // An abandoned request stays the client's doing, whatever the upstream did.
            if records[index].outcome != .cancelled {
                records[index].outcome = Self.settle(records[index], answered, history.client, faultIndex)
            }
            let said = records[index].routerHeader
            if said != .unknown, let answered, said != answered.env { disagreements.append(UInt32(index)) }
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
        headerDisagreements = disagreements
        evidenceGaps = gaps
        weightChanges = Self.weightChanges(history.actions)
        machine = ControlPath(control: history.control, records: raw)
    }

    /// The outcome a request really had, from the client's record and the execution that
    /// answered it (SPEC §3): an excuse needs the upstream's stamp *and* its ledger.
    static func settle(_ record: LedgerRecord, _ answered: Execution?, _ client: ClientLedger, _ faults: FaultIndex) -> Outcome {
        let stamped = client.faultIDs(record)
        func injected(_ kind: (FaultWindow) -> Bool) -> Bool {
            guard let answered else { return false }
            return answered.entry.faults.contains { id in stamped.contains(Substring(id)) && faults.has(answered.env, id, kind) }
        }
        let sameBytes = answered.map { $0.entry.bytes == Int(record.bytes) } ?? false
        if record.curlCode != 0 || (200..<300).contains(record.status) {
            let complete = record.curlCode == 0 && (record.endpoint != .chatStream || record.sawDone)
            // Without an upstream execution there is nothing to compare: the client's word stands.
            guard let answered else { return complete ? .ok : .transport }
            // Every byte the upstream sent, and the upstream broke the body on purpose: relayed faithfully.
            if sameBytes, injected(\.breaksBody) { return .upstreamFault }
            // A whole, unaltered response.
            if complete, sameBytes, (200..<300).contains(answered.entry.status ?? 0) { return .ok }
            return .transport
        }
        // A non-2xx: the upstream's injected error, relayed with its status, or the router's own.
        if let answered, answered.entry.status == Int(record.status), injected(\.isStatus) { return .upstreamFault }
        return .routerError
    }

    static func weightChanges(_ actions: [ActionRecord]) -> [WeightChange] {
        var weight = 0
        var changes: [WeightChange] = []
        for (index, action) in actions.enumerated() {
            guard let to = action.greenWeight, to != weight else { continue }
            changes.append(WeightChange(actionIndex: index, action: action.action, calledUs: action.calledUs, returnedUs: action.returnedUs, from: weight, to: to))
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

    /// How many times request `seq` was executed upstream.
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
        Execution(env: reference.env, entry: reference.env == .green ? greenEntries[reference.index] : blueEntries[reference.index])
    }

    /// Upstream executions of this run's requests on `env` (health probes left out) that
    /// also satisfy `predicate`, which is tested first because it is cheaper.
    package func executions(on env: ServedBy, where predicate: (LedgerEntry) -> Bool = { _ in true }) -> [LedgerEntry] {
        (env == .green ? greenEntries : blueEntries).filter { predicate($0) && history.requestSeq($0.requestID) != nil }
    }

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
