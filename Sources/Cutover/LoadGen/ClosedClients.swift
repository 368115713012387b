import HeapModule

/// The closed model's sending: this engine's clients (client k is the run's client
/// `firstSlot + k·stride`), each sending its next request once its last one was answered and
/// it thought, until the duration is over. A client's n-th request is slot n·C + c, so a
/// conversation's turns are C slots apart.
struct ClosedClients: SendingModel {
    private let plan: LoadPlan
    private let firstSlot: Int
    private let stride: Int
    private let durationUs: UInt64
    private let totalClients: UInt64
    let transferLimit = Int.max
    /// When each client is next ready.
    private var ready = Heap<ReadyClient>()
    /// How many requests each client sent.
    private var sent: [UInt64]

    init(plan: LoadPlan, connections: Int, firstSlot: Int, stride: Int) {
        self.plan = plan
        self.firstSlot = firstSlot
        self.stride = stride
        durationUs = plan.duration.microseconds
        totalClients = UInt64(connections)
        let mine = connections / stride + (firstSlot < connections % stride ? 1 : 0)
        sent = Array(repeating: 0, count: mine)
        for client in 0..<mine { ready.insert(ReadyClient(atUs: 0, client: client)) }
    }

    mutating func startDue(_ nowUs: UInt64, engine: LoadEngine) {
        guard nowUs < durationUs else { return }
        while let client = ready.min, client.atUs <= nowUs, let transfer = engine.takeTransfer(limit: transferLimit) {
            ready.removeMin()
            let seq = sent[client.client] * totalClients + UInt64(firstSlot + client.client * stride)
            sent[client.client] += 1
            transfer.client = client.client
            engine.start(transfer, seq: seq, intendedUs: UInt32(client.atUs))
        }
    }

    func isDone(nowUs: UInt64) -> Bool { nowUs >= durationUs }

    func nextDueUs(nowUs: UInt64, inFlight: Int) -> UInt64? {
        guard nowUs < durationUs, let client = ready.min else { return nil }
        return min(max(client.atUs, nowUs), durationUs)
    }

    /// The client thinks (a drawn time), then asks again.
    mutating func released(_ transfer: CurlTransfer, answeredUs: UInt64) {
        let client = transfer.client
        let seq = UInt64(transfer.record.seq)
        let thinkUs =
            plan.thinkTimeMs.map {
                UInt64($0.sample(SeededRandom.unit(seed: plan.seed, stream: 10, index: seq), SeededRandom.unit(seed: plan.seed, stream: 11, index: seq)))
                    * 1_000
            } ?? 0
        ready.insert(ReadyClient(atUs: answeredUs + thinkUs, client: client))
    }

    /// Each client's first request, never sent.
    mutating func recordUnsendable(engine: LoadEngine) {
        while let client = ready.popMin() {
            engine.notSent(seq: firstSlot + client.client * stride, intendedUs: client.atUs, heldBack: false, noDescriptors: true)
        }
    }
}

/// A closed-model client and when it may send its next request.
struct ReadyClient: Comparable {
    let atUs: UInt64
    let client: Int

    static func < (lhs: ReadyClient, rhs: ReadyClient) -> Bool { (lhs.atUs, lhs.client) < (rhs.atUs, rhs.client) }
}
