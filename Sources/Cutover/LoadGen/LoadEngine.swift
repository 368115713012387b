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
/// When to send is the sending model's: `OpenSchedule` or `ClosedClients`.
final class LoadEngine {
    private let plan: LoadPlan
    private let clock: RunClock
    /// nil only when the process had no descriptor left for it (libcurl opens a wake-up
    /// socket pair in `curl_multi_init`); then `epoll` is -1 too and the engine never uses it.
    private let multi: UnsafeMutableRawPointer!
    /// This engine's epoll instance, watching the sockets libcurl asks for; -1 when the
    /// process had no descriptor for it or for the multi handle.
    private let epoll: Int32
    /// When libcurl wants `curl_multi_socket_action(CURL_SOCKET_TIMEOUT)`, in run-clock
    /// nanoseconds; nil when it has no timeout pending.
    fileprivate var curlDeadline: UInt64?
    /// The open model's schedule or the closed model's clients.
    private var model: any SendingModel
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
    private(set) var inFlight = 0
    /// Streams the client will abandon, by when.
    private var cancels = Heap<PendingCancel>()
    private(set) var records: [LedgerRecord] = []
    /// Relay headers of this thread's non-2xx responses, by sequence number.
    private(set) var errorHeaders: [UInt32: [String: String]] = [:]
    /// How the earlier attempts of this thread's replayed requests ended, by sequence number.
    private(set) var earlierAttempts: [UInt32: [EarlierAttempt]] = [:]
    /// Answers to `h2` clients that came over HTTP/2, and all answers to them: proof the
    /// router spoke it rather than the generator assuming so.
    private(set) var http2Answers = (overHTTP2: 0, all: 0)

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
        let firstSlot = plan.shard.index + thread * plan.shard.count
        let stride = plan.threads * plan.shard.count
        switch plan.model {
        case .open(let rate, let rampTo):
            model = OpenSchedule(
                pacer: Pacer(rate: rate, rampTo: rampTo, duration: plan.duration, arrivals: arrivals), plan: plan, firstSlot: firstSlot, stride: stride)
        case .closed(let connections):
            model = ClosedClients(plan: plan, connections: connections, firstSlot: firstSlot, stride: stride)
        }
        if let total = plan.scheduledCount { records.reserveCapacity(total / stride + 1) }
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
        // With no descriptor left for the multi handle or the poll (the process's limit
        // reached), the engine sends nothing and says so in its records (`run`), never traps.
        multi = curl_multi_init()
        let poll = multi == nil ? -1 : epoll_create1(Int32(EPOLL_CLOEXEC))
        epoll = poll
        guard let multi, poll >= 0 else { return }
        cutover_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, plan.maxInFlight)
        let context = Unmanaged.passUnretained(self).toOpaque()
        cutover_multi_setopt_socket_cb(multi, engineWatchSocket)
        cutover_multi_setopt_ptr(multi, CURLMOPT_SOCKETDATA, context)
        cutover_multi_setopt_timer_cb(multi, engineSetTimer)
        cutover_multi_setopt_ptr(multi, CURLMOPT_TIMERDATA, context)
    }

    deinit {
        if let multi {
            for transfer in transfers where transfer.inMulti { curl_multi_remove_handle(multi, transfer.handle) }
            curl_multi_cleanup(multi)
        }
        transfers.removeAll()
        free.removeAll()
        if epoll >= 0 { close(epoll) }
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
        guard epoll >= 0 else {
            model.recordUnsendable(engine: self)
            return
        }
        var readyFDs = [Int32](repeating: 0, count: 512)
        var readyFlags = [Int32](repeating: 0, count: 512)
        var running: Int32 = 0

        while true {
            if let stop, stop.isRaised { break }
            let now = clock.nowNanos / 1_000
            model.startDue(now, engine: self)
            if model.isDone(nowUs: now) && inFlight == 0 { break }

            // Wait for socket events until libcurl's timeout or the next due slot, whichever
            // comes first (a due slot with no free transfer waits for one to finish).
            let nowNanos = clock.nowNanos
            var wake = nowNanos + Self.longestWaitNanos
            if let curlDeadline { wake = min(wake, curlDeadline) }
            if let cancel = cancels.min { wake = min(wake, cancel.atUs * 1_000) }
            if !slowReaders.isEmpty, let resume = resumeSlowReaders(nowNanos: nowNanos) { wake = min(wake, resume) }
            if let due = model.nextDueUs(nowUs: now, inFlight: inFlight) { wake = min(wake, due * 1_000) }
            let timeout = Int64(wake > nowNanos ? wake - nowNanos : 0)
            let ready = readyFDs.withUnsafeMutableBufferPointer { fds in
                readyFlags.withUnsafeMutableBufferPointer { flags in
                    cutover_epoll_wait(epoll, fds.baseAddress, flags.baseAddress, Int32(fds.count), timeout)
                }
            }
            for index in 0..<max(0, Int(ready)) {
                curl_multi_socket_action(multi, readyFDs[index], readyFlags[index], &running)
                // A long batch of events must not hold back the slots that fall due meanwhile.
                if index % 16 == 15 { model.startDue(clock.nowNanos / 1_000, engine: self) }
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

    /// A free transfer (a new one while fewer than `limit` exist), or nil.
    func takeTransfer(limit: Int) -> CurlTransfer? {
        if let transfer = free.popLast() { return transfer }
        guard transfers.count < limit else { return nil }
        let transfer = CurlTransfer(
            clock: clock, timeoutMs: plan.requestTimeout.milliseconds, connectTimeoutMs: plan.connectTimeout.milliseconds, runID: plan.runID,
            extraHeaders: requests.extraHeaders, relay: plan.relay)
        transfers.append(transfer)
        return transfer
    }

    /// Slot `seq` fell due too long ago to be sent, or found no descriptor to be sent with:
    /// recorded, never skipped.
    func notSent(seq: Int, intendedUs: UInt64, heldBack: Bool, noDescriptors: Bool = false) {
        let choice = plan.choices(for: UInt64(seq))
        var record = LedgerRecord.notSent(
            seq: UInt32(seq), session: choice.session, intendedUs: UInt32(intendedUs), endpoint: plan.mix[choice.mixIndex].endpoint)
        // Every transfer slot waited on the router since it fell due: its back-pressure, not the generator's lateness.
        if heldBack { record.flags |= LedgerRecord.heldBackFlag }
        if noDescriptors { record.flags |= LedgerRecord.descriptorsExhaustedFlag }
        records.append(record)
    }

    /// Sends slot `seq`; `heldBack` when it waited for a transfer slot the router held.
    func start(_ transfer: CurlTransfer, seq: UInt64, intendedUs: UInt32, heldBack: Bool = false) {
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
        if transfer.readRate > 0 { slowReaders.append(transfer) }
    }

    /// Slow readers in flight: each pauses when ahead of its rate and is resumed here.
    private var slowReaders: [CurlTransfer] = []

    /// Lets the paused slow readers whose time has come read again; returns the next time
    /// one is due (ns), if any.
    private func resumeSlowReaders(nowNanos: UInt64) -> UInt64? {
        slowReaders.removeAll { !$0.inMulti }
        var next: UInt64?
        for transfer in slowReaders where transfer.pausedUntilUs != 0 {
            if transfer.pausedUntilUs * 1_000 <= nowNanos {
                transfer.pausedUntilUs = 0
                // CURLPAUSE_CONT (0): read again; libcurl hands over the bytes it held at once,
                // and the transfer may pause again before this returns.
                curl_easy_pause(transfer.handle, 0)
            }
            if transfer.pausedUntilUs != 0 { next = min(next ?? .max, transfer.pausedUntilUs * 1_000) }
        }
        return next
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

    /// A transfer is free again; the sending model hears of it (a closed-model client
    /// thinks, then asks again).
    private func released(_ transfer: CurlTransfer) {
        model.released(transfer, answeredUs: UInt64(records.last?.doneUs ?? clock.nowMicros))
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
        if transfer.speaksHTTP2, code == CURLE_OK {
            var version = 0
            cutover_easy_getinfo_long(transfer.handle, CURLINFO_HTTP_VERSION, &version)
            http2Answers.all += 1
            if version == Int(CURL_HTTP_VERSION_2_0) { http2Answers.overHTTP2 += 1 }
        }
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

/// A stream the client will abandon at `atUs`, if the transfer still carries request `seq`.
struct PendingCancel: Comparable {
    let atUs: UInt64
    let seq: UInt32
    let transfer: CurlTransfer

    static func == (lhs: PendingCancel, rhs: PendingCancel) -> Bool { lhs.atUs == rhs.atUs && lhs.seq == rhs.seq }
    static func < (lhs: PendingCancel, rhs: PendingCancel) -> Bool { (lhs.atUs, lhs.seq) < (rhs.atUs, rhs.seq) }
}
