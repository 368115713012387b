import CCurl
import ConfigInput
import CurlHTTP
import Foundation
import HTTPServerCore
import Synchronization

/// One thread's share of a run: a libcurl multi handle driving many transfers at once.
///
/// Open model: slot `i` (of this thread's stride) is sent when due; if no transfer is
/// free it waits, and a slot more than `maxLag` late is recorded `not-sent`, never
/// silently skipped. Closed model: `connections` transfers, each starting the next
/// request as soon as the last one ended, until the duration is over.
final class LoadEngine {
    private let plan: LoadPlan
    private let clock: RunClock
    private let multi: UnsafeMutableRawPointer
    private let firstSlot: Int
    private let stride: Int
    private let pacer: Pacer?
    private let stamps: FaultStampTable
    private let requests: RequestTemplates
    /// Each template's URL parsed once into a libcurl URL handle (this thread's own copies).
    private let urls: [OpaquePointer?]
    private let progress: LoadProgress?
    private var free: [CurlTransfer] = []
    /// Transfers inside the multi handle, kept alive here until they finish (libcurl
    /// and the callbacks only hold unretained pointers to them).
    private var busy: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var created = 0
    private var inFlight = 0
    private(set) var records: [LedgerRecord] = []
    /// Relay headers of this thread's non-2xx responses, by sequence number.
    private(set) var errorHeaders: [UInt32: [String: String]] = [:]

    init(plan: LoadPlan, clock: RunClock, thread: Int, stamps: FaultStampTable, requests: RequestTemplates, progress: LoadProgress?) {
        self.plan = plan
        self.progress = progress
        self.clock = clock
        self.firstSlot = thread
        self.stride = plan.threads
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
            pacer = Pacer(rate: rate, rampTo: rampTo, duration: plan.duration)
        } else {
            pacer = nil
        }
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.multi = multi
        cutover_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, plan.maxInFlight)
    }

    deinit {
        for handle in busy.keys { curl_multi_remove_handle(multi, handle) }
        busy.removeAll()
        free.removeAll()
        curl_multi_cleanup(multi)
        for case let url? in urls { curl_url_cleanup(url) }
    }

    /// Runs this thread's share to the end; its records and error headers are then read.
    func run() {
        let durationMicros = plan.duration.microseconds
        let maxLagMicros = plan.maxLag.microseconds
        let total = plan.scheduledCount ?? Int.max
        var next = firstSlot
        if let total = plan.scheduledCount { records.reserveCapacity(total / stride + 1) }
        var closedSeq = UInt64(firstSlot)
        let connections: Int
        if case .closed(let count) = plan.model {
            connections = count / stride + (firstSlot < count % stride ? 1 : 0)
        } else {
            connections = 0
        }

        while true {
            let now = clock.nowNanos / 1_000
            if let pacer {
                while next < total {
                    let due = pacer.dueMicros(next)
                    if due > now { break }
                    if now - due > maxLagMicros {
                        let choice = plan.choices(for: UInt64(next))
                        records.append(.notSent(seq: UInt32(next), session: choice.session, intendedUs: UInt32(due), endpoint: choice.mix.endpoint))
                        next += stride
                        continue
                    }
                    guard let transfer = takeTransfer() else { break }
                    start(transfer, seq: UInt64(next), intendedUs: UInt32(due))
                    next += stride
                }
            } else if now < durationMicros {
                while inFlight < connections, let transfer = takeTransfer() {
                    start(transfer, seq: closedSeq, intendedUs: UInt32(now))
                    closedSeq += UInt64(stride)
                }
            }

            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            collectFinished()

            let scheduleDone = pacer != nil ? next >= total : now >= durationMicros
            if scheduleDone && inFlight == 0 { break }

            // Wait for socket activity or the next due slot, but never while work could start
            // now (a free client in the closed model, a due slot with capacity in the open one).
            var waitMs: Int32 = 50
            let nowAgain = clock.nowNanos / 1_000
            if let pacer {
                if next < total {
                    let due = pacer.dueMicros(next)
                    if due > nowAgain {
                        waitMs = Int32(min(50, (due - nowAgain) / 1_000))
                    } else {
                        waitMs = inFlight >= plan.maxInFlight ? 1 : 0
                    }
                }
            } else if nowAgain < durationMicros {
                waitMs = inFlight < connections ? 0 : Int32(min(50, (durationMicros - nowAgain) / 1_000 + 1))
            }
            if waitMs > 0 {
                var events: Int32 = 0
                curl_multi_poll(multi, nil, 0, waitMs, &events)
            }
        }
    }

    private func takeTransfer() -> CurlTransfer? {
        if let transfer = free.popLast() { return transfer }
        let limit = pacer != nil ? plan.maxInFlight : Int.max
        guard created < limit else { return nil }
        created += 1
        let timeoutMs = Int(plan.requestTimeout.components.seconds) * 1_000 + Int(plan.requestTimeout.components.attoseconds / 1_000_000_000_000_000)
        return CurlTransfer(clock: clock, timeoutMs: timeoutMs, runID: plan.runID, extraHeaders: requests.extraHeaders)
    }

    private func start(_ transfer: CurlTransfer, seq: UInt64, intendedUs: UInt32) {
        let choice = plan.choices(for: seq)
        let templateIndex = requests.index(mix: choice.mixIndex, model: choice.modelIndex)
        transfer.record = LedgerRecord(
            seq: UInt32(truncatingIfNeeded: seq), session: choice.session, intendedUs: intendedUs, sentUs: 0, firstByteUs: 0, doneUs: 0,
            bytes: 0, status: 0, fault: 0, chunks: 0, servedBy: .unknown, outcome: .transport, endpoint: choice.mix.endpoint, curlCode: 0,
            flags: 0)
        transfer.prepare(template: templateIndex, requests.templates[templateIndex], url: urls[templateIndex], seq: seq, session: choice.session)
        transfer.record.sentUs = clock.nowMicros
        busy[transfer.handle] = transfer
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
            guard let context, let transfer = busy.removeValue(forKey: easy) else { continue }
            assert(Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue() === transfer)
            finish(transfer, code: result)
            free.append(transfer)
        }
    }

    /// Stamps the ending and classifies the outcome exactly as SPEC §3 defines it.
    private func finish(_ transfer: CurlTransfer, code: CURLcode) {
        var record = transfer.record
        record.doneUs = clock.nowMicros
        var status = 0
        cutover_easy_getinfo_long(transfer.handle, CURLINFO_RESPONSE_CODE, &status)
        record.status = UInt16(clamping: status)
        record.curlCode = UInt8(clamping: Int(code.rawValue))
        record.servedBy = ServedBy(header: transfer.upstreamHeader)
        record.routerHeader = ServedBy(header: transfer.routerHeader)
        let stamp = transfer.faultHeader
        record.fault = stamp == nil || stamp == "none" ? 0 : stamps.index(of: stamp!)
        record.outcome = Self.classify(record, stream: transfer.isStream, faultStamped: record.fault != 0)
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

/// The request URLs and bodies of a run, built once and kept alive for every transfer.
///
/// `@unchecked Sendable`: filled in `init` and only read afterwards; the buffers are
/// freed in `deinit`, after every engine thread has ended.
final class RequestTemplates: @unchecked Sendable {
    struct Template {
        let url: UnsafePointer<CChar>
        let body: UnsafeRawBufferPointer?
    }

    /// One template per (mix entry, model), at `mix * models + model`.
    private(set) var templates: [Template] = []
    private var allocations: [UnsafeMutableRawPointer] = []
    let extraHeaders: [String]
    private let modelCount: Int

    init(plan: LoadPlan) {
        extraHeaders = plan.headers.map { "\($0.name): \($0.value)" }
        modelCount = plan.models.count
        for entry in plan.mix {
            for model in plan.models {
                let path = entry.endpoint == .models ? "/v1/models" : "/v1/chat/completions"
                let url = strdup(plan.url + path)!
                allocations.append(UnsafeMutableRawPointer(url))
                var body: UnsafeRawBufferPointer?
                if entry.endpoint != .models {
                    let stream = entry.endpoint == .chatStream ? #","stream":true"# : ""
                    let text =
                        #"{"model":\#(JSON.quoted(model.name)),"messages":[{"role":"user","content":"Hello from cutover"}],"max_tokens":\#(entry.maxTokens)\#(stream)}"#
                    let bytes = Array(text.utf8)
                    let memory = malloc(max(1, bytes.count))!
                    memory.copyMemory(from: bytes, byteCount: bytes.count)
                    allocations.append(memory)
                    body = UnsafeRawBufferPointer(start: memory, count: bytes.count)
                }
                templates.append(Template(url: UnsafePointer(url), body: body))
            }
        }
    }

    func index(mix: Int, model: Int) -> Int { mix * modelCount + model }

    deinit {
        for pointer in allocations { free(pointer) }
    }

}
