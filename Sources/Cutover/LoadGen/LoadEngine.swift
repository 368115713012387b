import CCurl
import ConfigInput
import CurlHTTP
import Foundation
import HTTPServerCore
import HeapModule
import Synchronization

/// One thread's share of a run: a libcurl multi handle driving many transfers at once,
/// event-driven (`curl_multi_socket_action`): libcurl tells the engine which sockets to watch
/// and when its next timeout is due, the engine waits on those sockets with its own epoll, and
/// it hands libcurl only the sockets that are ready. So the cost of one event does not grow
/// with the number of transfers in flight (`curl_multi_perform` visits every one).
///
/// Open model: slot `i` (of this thread's stride) is sent when due; if no transfer is
/// free it waits, and a slot more than `maxLag` late is recorded `not-sent`, never
/// silently skipped. Closed model: `connections` transfers, each starting the next
/// request as soon as the last one ended, until the duration is over.
final class LoadEngine {
    private let plan: LoadPlan
    private let clock: RunClock
    private let multi: UnsafeMutableRawPointer
    /// This engine's epoll instance, watching the sockets libcurl asks for.
    private let epoll: Int32
    /// When libcurl wants `curl_multi_socket_action(CURL_SOCKET_TIMEOUT)`, in run-clock
    /// nanoseconds; nil when it has no timeout pending.
    fileprivate var curlDeadline: UInt64?
    private let firstSlot: Int
    private let stride: Int
    private let pacer: Pacer?
    private let stamps: FaultStampTable
    private let requests: RequestTemplates
    /// Each template's URL parsed once into a libcurl URL handle (this thread's own copies).
    private let urls: [OpaquePointer?]
    private let progress: LoadProgress?
    /// Raised when the run is cancelled: the loop ends with transfers still in flight.
    private let stop: StopSignal?
    private var free: [CurlTransfer] = []
    /// Every transfer made, kept alive here (libcurl and the callbacks only hold unretained
    /// pointers to them); a finished one is found again through `CURLOPT_PRIVATE`.
    private var transfers: [CurlTransfer] = []
    private var inFlight = 0
    /// Closed model: this thread's clients (client k is the run's client
    /// `thread + k·threads`), when each is next ready, and how many requests each sent.
    private var readyClients = Heap<ReadyClient>()
    /// Streams the client will abandon, by when.
    private var cancels = Heap<PendingCancel>()
    private var sentByClient: [UInt64] = []
    private(set) var records: [LedgerRecord] = []
    /// Relay headers of this thread's non-2xx responses, by sequence number.
    private(set) var errorHeaders: [UInt32: [String: String]] = [:]
    /// How the earlier attempts of this thread's replayed requests ended, by sequence number.
    private(set) var earlierAttempts: [UInt32: [EarlierAttempt]] = [:]

    /// Longest wait for socket events: the loop looks at the schedule at least this often.
    private static let longestWaitNanos: UInt64 = 50_000_000

    init(
        plan: LoadPlan, clock: RunClock, thread: Int, stamps: FaultStampTable, requests: RequestTemplates, arrivals: ArrivalTimes?, progress: LoadProgress?,
        stop: StopSignal? = nil
    ) {
        self.plan = plan
        self.progress = progress
        self.stop = stop
        self.clock = clock
        // Thread t of T in shard K of N carries slots K + N·t, K + N·(t + T), …: the
        // shard's stripe of the global schedule, striped again over its threads.
        self.firstSlot = plan.shard.index + thread * plan.shard.count
        self.stride = plan.threads * plan.shard.count
        self.stamps = stamps
        self.requests = requests
        // A URL libcurl cannot parse (the CLI refuses those) stays text, so every transfer
        // fails with libcurl's own error and is recorded as `transport`.
        urls = requests.templates.map { template in
            guard let url = curl_url() else { return nil }
            if curl_url_set(url, CURLUPART_URL, template.url, 0) == CURLUE_OK { return url }
            curl_url_cleanup(url)
            return nil
        }
        if case .open(let rate, let rampTo) = plan.model {
            pacer = Pacer(rate: rate, rampTo: rampTo, duration: plan.duration, arrivals: arrivals)
        } else {
            pacer = nil
        }
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.multi = multi
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { fatalError("epoll_create1 failed: \(String(cString: strerror(errno)))") }
        cutover_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, plan.maxInFlight)
        let context = Unmanaged.passUnretained(self).toOpaque()
        cutover_multi_setopt_socket_cb(multi, engineWatchSocket)
        cutover_multi_setopt_ptr(multi, CURLMOPT_SOCKETDATA, context)
        cutover_multi_setopt_timer_cb(multi, engineSetTimer)
        cutover_multi_setopt_ptr(multi, CURLMOPT_TIMERDATA, context)
    }

    deinit {
        for transfer in transfers where transfer.inMulti { curl_multi_remove_handle(multi, transfer.handle) }
        transfers.removeAll()
        free.removeAll()
        curl_multi_cleanup(multi)
        close(epoll)
        for case let url? in urls { curl_url_cleanup(url) }
    }

    /// The run clock, for the timer callback.
    fileprivate var clockNanos: UInt64 { clock.nowNanos }

    /// libcurl's wish for socket `fd`, carried out on this engine's epoll.
    fileprivate func watch(_ fd: Int32, what: Int32, known: Bool) {
        _ = cutover_epoll_watch(epoll, fd, what, known ? 1 : 0)
        if what != CURL_POLL_REMOVE, !known { curl_multi_assign(multi, fd, UnsafeMutableRawPointer(bitPattern: 1)) }
    }

    /// Runs this thread's share to the end; its records and error headers are then read.
    func run() {
        let durationMicros = plan.duration.microseconds
        let maxLagMicros = plan.maxLag.microseconds
        let total = plan.scheduledCount ?? Int.max
        var next = firstSlot
        if let total = plan.scheduledCount { records.reserveCapacity(total / stride + 1) }
        var totalClients: UInt64 = 0
        if case .closed(let count) = plan.model {
            let mine = count / stride + (firstSlot < count % stride ? 1 : 0)
            totalClients = UInt64(count)
            sentByClient = Array(repeating: 0, count: mine)
            for client in 0..<mine { readyClients.insert(ReadyClient(atUs: 0, client: client)) }
        }
        /// When the open model last found every transfer slot taken (µs): a slot due before
        /// then waited on the router's back-pressure, whenever it was sent or given up.
        var poolFullAtUs: UInt64?
        var readyFDs = [Int32](repeating: 0, count: 512)
        var readyFlags = [Int32](repeating: 0, count: 512)
        var running: Int32 = 0

        /// Starts what is due now: open-model slots whose time has come (or records them
        /// `not-sent` when too late), or closed-model clients that are free.
        func startDue(_ now: UInt64) {
            if let pacer {
                while next < total {
                    let due = pacer.dueMicros(next)
                    if due > now { break }
                    if inFlight >= plan.maxInFlight { poolFullAtUs = now }
                    if now - due > maxLagMicros {
                        let choice = plan.choices(for: UInt64(next))
                        var record = LedgerRecord.notSent(
                            seq: UInt32(next), session: choice.session, intendedUs: UInt32(due), endpoint: plan.mix[choice.mixIndex].endpoint)
                        // Every transfer slot waited on the router since it fell due: its back-pressure, not the generator's lateness.
                        if let full = poolFullAtUs, full >= due { record.flags |= LedgerRecord.heldBackFlag }
                        records.append(record)
                        next += stride
                        continue
                    }
                    guard let transfer = takeTransfer() else {
                        poolFullAtUs = now
                        break
                    }
                    start(transfer, seq: UInt64(next), intendedUs: UInt32(due), heldBack: poolFullAtUs.map { $0 >= due } ?? false)
                    next += stride
                }
            } else if now < durationMicros {
                // A client whose think time is over sends its next request: its n-th is
                // slot n·C + c, so its conversation's turns are C slots apart.
                while let ready = readyClients.min, ready.atUs <= now, let transfer = takeTransfer() {
                    readyClients.removeMin()
                    let seq = sentByClient[ready.client] * totalClients + UInt64(firstSlot + ready.client * stride)
                    sentByClient[ready.client] += 1
                    transfer.client = ready.client
                    start(transfer, seq: seq, intendedUs: UInt32(ready.atUs))
                }
            }
        }

        while true {
            if let stop, stop.isRaised { break }
            let now = clock.nowNanos / 1_000
            startDue(now)
            let scheduleDone = pacer != nil ? next >= total : now >= durationMicros
            if scheduleDone && inFlight == 0 { break }

            // Wait for socket events until libcurl's timeout or the next due slot, whichever
            // comes first (a due slot with no free transfer waits for one to finish).
            let nowNanos = clock.nowNanos
            var wake = nowNanos + Self.longestWaitNanos
            if let curlDeadline { wake = min(wake, curlDeadline) }
            if let cancel = cancels.min { wake = min(wake, cancel.atUs * 1_000) }
            if let pacer, next < total, inFlight < plan.maxInFlight {
                wake = min(wake, pacer.dueMicros(next) * 1_000)
            } else if pacer == nil, now < durationMicros, let ready = readyClients.min {
                wake = min(wake, max(ready.atUs, now) * 1_000, durationMicros * 1_000)
            }
            let timeout = Int64(wake > nowNanos ? wake - nowNanos : 0)
            let ready = readyFDs.withUnsafeMutableBufferPointer { fds in
                readyFlags.withUnsafeMutableBufferPointer { flags in
                    cutover_epoll_wait(epoll, fds.baseAddress, flags.baseAddress, Int32(fds.count), timeout)
                }
            }
            for index in 0..<max(0, Int(ready)) {
                curl_multi_socket_action(multi, readyFDs[index], readyFlags[index], &running)
                // A long batch of events must not hold back the slots that fall due meanwhile.
                if index % 16 == 15 { startDue(clock.nowNanos / 1_000) }
            }
            let afterWait = clock.nowNanos
            if let deadline = curlDeadline, afterWait >= deadline {
                curlDeadline = nil
                curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running)
            }
            collectFinished()
            if !cancels.isEmpty { abandonDue(UInt32(truncatingIfNeeded: afterWait / 1_000)) }
        }
    }

    private func takeTransfer() -> CurlTransfer? {
        if let transfer = free.popLast() { return transfer }
        let limit = pacer != nil ? plan.maxInFlight : Int.max
        guard transfers.count < limit else { return nil }
        let transfer = CurlTransfer(
            clock: clock, timeoutMs: plan.requestTimeout.milliseconds, connectTimeoutMs: plan.connectTimeout.milliseconds, runID: plan.runID,
            extraHeaders: requests.extraHeaders, relay: plan.relay)
        transfers.append(transfer)
        return transfer
    }

    /// Sends slot `seq`; `heldBack` when it waited for a transfer slot the router held.
    private func start(_ transfer: CurlTransfer, seq: UInt64, intendedUs: UInt32, heldBack: Bool = false) {
        let choice = plan.choices(for: seq)
        let templateIndex = requests.index(mix: choice.mixIndex, model: choice.modelIndex)
        transfer.record = LedgerRecord(
            seq: UInt32(truncatingIfNeeded: seq), session: choice.session, intendedUs: intendedUs, sentUs: 0, firstByteUs: 0, doneUs: 0,
            bytes: 0, status: 0, fault: 0, chunks: 0, servedBy: .unknown, outcome: .transport, endpoint: plan.mix[choice.mixIndex].endpoint, curlCode: 0,
            flags: heldBack ? LedgerRecord.heldBackFlag : 0)
        let template = requests.templates[templateIndex]
        transfer.prepare(template: templateIndex, template, url: urls[templateIndex], seq: seq, session: choice.session)
        if template.bodyHead != nil {
            transfer.record.messagesDigest = transfer.setBody(
                requests, template, maxTokens: plan.maxTokens(forSlot: seq), promptBytes: plan.promptBytes(forSlot: seq),
                earlierTurns: plan.earlierTurns(ofSlot: seq).map {
                    RequestTemplates.Turn(seq: $0, promptBytes: plan.promptBytes(forSlot: $0), answerTokens: plan.maxTokens(forSlot: $0))
                })
        }
        transfer.record.sentUs = clock.nowMicros
        if let after = plan.cancelAfterUs(forSlot: seq) {
            cancels.insert(PendingCancel(atUs: UInt64(transfer.record.sentUs) + after, seq: transfer.record.seq, transfer: transfer))
        }
        transfer.inMulti = true
        curl_multi_add_handle(multi, transfer.handle)
        inFlight += 1
    }

    private func collectFinished() {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let result = message.pointee.data.result
            var context: UnsafeMutableRawPointer?
            cutover_easy_getinfo_ptr(easy, CURLINFO_PRIVATE, &context)
            curl_multi_remove_handle(multi, easy)
            inFlight -= 1
            guard let context else { continue }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
            transfer.inMulti = false
            finish(transfer, code: result)
            released(transfer)
        }
    }

    /// The client abandons the streams whose time has come: the transfer leaves the multi
    /// handle, and libcurl closes its connection, as a user closing a tab would.
    private func abandonDue(_ now: UInt32) {
        while let due = cancels.min, due.atUs <= UInt64(now) {
            cancels.removeMin()
            // Still the same request (a finished transfer may carry another by now).
            guard due.transfer.inMulti, due.transfer.record.seq == due.seq else { continue }
            curl_multi_remove_handle(multi, due.transfer.handle)
            due.transfer.inMulti = false
            inFlight -= 1
            finish(due.transfer, code: CURLE_OK, cancelled: true)
            released(due.transfer)
        }
    }

    /// A transfer is free again; a closed-model client thinks, then asks again.
    private func released(_ transfer: CurlTransfer) {
        if transfer.client >= 0 {
            let seq = UInt64(transfer.record.seq)
            let thinkUs =
                plan.thinkTimeMs.map {
                    UInt64($0.sample(SeededRandom.unit(seed: plan.seed, stream: 10, index: seq), SeededRandom.unit(seed: plan.seed, stream: 11, index: seq)))
                        * 1_000
                } ?? 0
            let answeredUs = UInt64(records.last?.doneUs ?? clock.nowMicros)
            readyClients.insert(ReadyClient(atUs: answeredUs + thinkUs, client: transfer.client))
        }
        free.append(transfer)
    }

    /// Stamps the ending and classifies the outcome exactly as SPEC §3 defines it.
    private func finish(_ transfer: CurlTransfer, code: CURLcode, cancelled: Bool = false) {
        var record = transfer.record
        record.doneUs = clock.nowMicros
        var status = 0
        cutover_easy_getinfo_long(transfer.handle, CURLINFO_RESPONSE_CODE, &status)
        record.status = UInt16(clamping: status)
        record.curlCode = UInt8(clamping: Int(code.rawValue))
        // The harness itself ran out of descriptors: its fault, never the router's.
        if code != CURLE_OK, transfer.descriptorsExhausted { record.flags |= LedgerRecord.descriptorsExhaustedFlag }
        record.answerDigest = transfer.answerDigest
        if !transfer.earlierAttempts.isEmpty { earlierAttempts[record.seq] = transfer.earlierAttempts }
        record.servedBy = ServedBy(header: transfer.upstreamHeader)
        record.routerHeader = ServedBy(header: transfer.routerHeader)
        let stamp = transfer.faultHeader
        record.fault = stamp == nil || stamp == "none" ? 0 : stamps.index(of: stamp!)
        record.outcome = cancelled ? .cancelled : Self.classify(record, stream: transfer.isStream, faultStamped: record.fault != 0)
        // A request the harness could not open a socket for was never sent to the router.
        if record.descriptorsExhausted { record.outcome = .notSent }
        if !(200..<300).contains(record.status), !transfer.relayHeaders.isEmpty { errorHeaders[record.seq] = transfer.relayHeaders }
        records.append(record)
        progress?.record(record)
    }

    /// The client's own, provisional class: what the response alone shows. Reconciliation
    /// settles it against the upstream ledgers (an excuse needs the upstream's evidence).
    static func classify(_ r: LedgerRecord, stream: Bool, faultStamped: Bool) -> Outcome {
        if r.curlCode != 0 { return .transport }
        if (200..<300).contains(r.status) {
            if !stream || r.sawDone { return .ok }
            // A clean 2xx stream without [DONE]: the upstream's own fault if it says so, else truncation.
            return faultStamped ? .upstreamFault : .transport
        }
        // An upstream error carries the upstream's stamp *and* a fault id; a 4xx the
        // upstream gave a request the router mangled carries `X-Mock-Fault: none`.
        return r.upstreamStamped && faultStamped ? .upstreamFault : .routerError
    }
}

/// CURLMOPT_SOCKETFUNCTION: libcurl's wish for one socket; `socketp` is non-nil once the
/// engine registered it (`curl_multi_assign`).
private let engineWatchSocket: cutover_curl_socket_cb = { _, fd, what, context, socketp in
    guard let context else { return 0 }
    Unmanaged<LoadEngine>.fromOpaque(context).takeUnretainedValue().watch(fd, what: what, known: socketp != nil)
    return 0
}

/// CURLMOPT_TIMERFUNCTION: when libcurl next wants a timeout action (-1: none).
private let engineSetTimer: cutover_curl_timer_cb = { _, timeoutMs, context in
    guard let context else { return 0 }
    let engine = Unmanaged<LoadEngine>.fromOpaque(context).takeUnretainedValue()
    engine.curlDeadline = timeoutMs < 0 ? nil : engine.clockNanos + UInt64(timeoutMs) * 1_000_000
    return 0
}

/// Fault stamps seen in a run, interned to small integers for the compact ledger.
final class FaultStampTable: Sendable {
    private let table = Mutex<(names: [String], index: [String: UInt16])>((["none"], ["none": 0]))

    func index(of stamp: String) -> UInt16 {
        table.withLock { table in
            if let index = table.index[stamp] { return index }
            guard table.names.count < Int(UInt16.max) else { return UInt16.max }
            let index = UInt16(table.names.count)
            table.names.append(stamp)
            table.index[stamp] = index
            return index
        }
    }

    var names: [String] { table.withLock { $0.names } }
}

/// A closed-model client and when it may send its next request.
struct ReadyClient: Comparable {
    let atUs: UInt64
    let client: Int

    static func < (lhs: ReadyClient, rhs: ReadyClient) -> Bool { (lhs.atUs, lhs.client) < (rhs.atUs, rhs.client) }
}

/// A stream the client will abandon at `atUs`, if the transfer still carries request `seq`.
struct PendingCancel: Comparable {
    let atUs: UInt64
    let seq: UInt32
    let transfer: CurlTransfer

    static func == (lhs: PendingCancel, rhs: PendingCancel) -> Bool { lhs.atUs == rhs.atUs && lhs.seq == rhs.seq }
    static func < (lhs: PendingCancel, rhs: PendingCancel) -> Bool { (lhs.atUs, lhs.seq) < (rhs.atUs, rhs.seq) }
}
