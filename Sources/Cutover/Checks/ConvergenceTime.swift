import ConfigInput
import HTTPServerCore

/// How fast a weight change shows in the traffic: from the action returning to the start
/// of the first one-second window (sliding by 100 ms) whose green share is within
/// `tolerance` (default 0.1) of the new weight; within `max` (default 1s).
public struct ConvergenceTime: Check {
    public let name = "ConvergenceTime"
    public init() {}

    static let windowUs: UInt32 = 1_000_000
    static let stepUs: UInt32 = 100_000
    /// Fewer requests than this in a window say nothing about its share.
    static let minimumRequests = 30

    public func evaluate(_ history: RunHistory, _ spec: CheckSpec) -> CheckResult {
        let bound = spec.max ?? .seconds(1)
        let tolerance = spec.tolerance ?? 0.1
        let changes = history.actions.filter { $0.succeeded && $0.greenWeight != nil }
        var rows: [JSON] = []
        var failures: [String] = []
        var measured = 0
        let served = SentTimeline(history.client.records.filter { $0.outcome == .ok && $0.servedBy != .unknown })
        for (index, change) in changes.enumerated() {
            let target = Double(change.greenWeight!) / 100
            let segmentEnd = index + 1 < changes.count ? changes[index + 1].calledUs : served.lastUs
            guard segmentEnd >= change.calledUs + Self.windowUs else { continue }
            var start = change.calledUs
            var converged: UInt32?
            var lastShare = 0.0
            while start + Self.windowUs <= segmentEnd {
                let window = served.counts(from: start, to: start + Self.windowUs)
                if window.total >= Self.minimumRequests {
                    lastShare = Double(window.green) / Double(window.total)
                    if abs(lastShare - target) <= tolerance {
                        converged = start
                        break
                    }
                }
                start += Self.stepUs
            }
            measured += 1
            let label = "\(change.name) to \(change.greenWeight!) % at \(Double(change.calledUs) / 1e6)s"
            if let converged {
                let elapsedUs = converged > change.returnedUs ? converged - change.returnedUs : 0
                rows.append(.object([("action", .string(label)), ("convergence_ms", .double(Double(elapsedUs) / 1000))]))
                if UInt64(elapsedUs) > bound.microseconds {
                    failures.append("\(label): converged after \(Double(elapsedUs) / 1000) ms")
                }
            } else {
                rows.append(.object([("action", .string(label)), ("convergence_ms", .null), ("last_share", .double(lastShare))]))
                failures.append("\(label): never within \(tolerance) of \(target) (last window \(String(format: "%.3f", lastShare)))")
            }
        }
        guard measured > 0 else {
            return CheckResult(
                name: name, status: .skipped, summary: "no weight change with a second of traffic after it",
                evidence: .object([("changes", .int(changes.count))]))
        }
        return CheckResult(
            name: name, status: failures.isEmpty ? .pass : .fail,
            summary: "\(failures.count) of \(measured) weight changes took longer than \(DurationText.format(bound)) to show within ±\(tolerance)",
            evidence: .object([
                ("bound_ms", .double(Double(bound.microseconds) / 1000)), ("tolerance", .double(tolerance)), ("changes", .array(rows)),
                ("failures", .array(failures.map { .string($0) })),
            ]))
    }
}

/// Served requests ordered by send time with a running count of green ones, so any
/// window's share costs two binary searches.
struct SentTimeline {
    private let times: [UInt32]
    private let greenBefore: [Int]

    init(_ records: [LedgerRecord]) {
        let sorted = records.map { ($0.sentUs, $0.servedBy == .green) }.sorted { $0.0 < $1.0 }
        times = sorted.map(\.0)
        var running = [0]
        running.reserveCapacity(sorted.count + 1)
        for item in sorted { running.append(running.last! + (item.1 ? 1 : 0)) }
        greenBefore = running
    }

    var lastUs: UInt32 { times.last ?? 0 }

    /// Requests sent in [from, to) and how many of them green served.
    func counts(from: UInt32, to: UInt32) -> (total: Int, green: Int) {
        let a = index(of: from)
        let b = index(of: to)
        return (b - a, greenBefore[b] - greenBefore[a])
    }

    private func index(of time: UInt32) -> Int {
        var low = 0
        var high = times.count
        while low < high {
            let mid = (low + high) / 2
            if times[mid] < time { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
