/// The open model's sending: slot `i` of this engine's stride is sent when it falls due. With
/// no transfer free it waits; a slot more than the plan's `maxLag` late is recorded
/// `not-sent`, never silently skipped, and one that waited while every transfer slot was
/// taken is marked held back (the router's back-pressure, not the generator's lateness).
struct OpenSchedule: SendingModel {
    private let pacer: Pacer
    private let stride: Int
    private let total: Int
    private let maxLagUs: UInt64
    let transferLimit: Int
    private var next: Int
    /// When every transfer slot was last found taken (µs).
    private var poolFullAtUs: UInt64?

    init(pacer: Pacer, plan: LoadPlan, firstSlot: Int, stride: Int) {
        self.pacer = pacer
        self.stride = stride
        total = plan.scheduledCount ?? Int.max
        maxLagUs = plan.maxLag.microseconds
        transferLimit = plan.maxInFlight
        next = firstSlot
    }

    mutating func startDue(_ nowUs: UInt64, engine: LoadEngine) {
        while next < total {
            let due = pacer.dueMicros(next)
            if due > nowUs { break }
            if engine.inFlight >= transferLimit { poolFullAtUs = nowUs }
            if nowUs - due > maxLagUs {
                engine.notSent(seq: next, intendedUs: due, heldBack: poolFullAtUs.map { $0 >= due } ?? false)
                next += stride
                continue
            }
            guard let transfer = engine.takeTransfer(limit: transferLimit) else {
                poolFullAtUs = nowUs
                break
            }
            engine.start(transfer, seq: UInt64(next), intendedUs: UInt32(due), heldBack: poolFullAtUs.map { $0 >= due } ?? false)
            next += stride
        }
    }

    func isDone(nowUs: UInt64) -> Bool { next >= total }

    func nextDueUs(nowUs: UInt64, inFlight: Int) -> UInt64? {
        next < total && inFlight < transferLimit ? pacer.dueMicros(next) : nil
    }

    mutating func released(_ transfer: CurlTransfer, answeredUs: UInt64) {}

    mutating func recordUnsendable(engine: LoadEngine) {
        while next < total {
            engine.notSent(seq: next, intendedUs: pacer.dueMicros(next), heldBack: false, noDescriptors: true)
            next += stride
        }
    }
}
