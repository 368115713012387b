import ConfigInput
import Foundation

/// How fast a weight change shows in the traffic: from the harness's call to the start
/// of the first one-second window (sliding by 100 ms) whose green share is within
/// `tolerance` (default 0.1) of the new weight; within `max` (default 1s). The tolerance
/// shrinks to half the change, so a change no larger than it (0 → 10 %) is still judged.
/// A change that was late while the machine itself stalled (the control path or the
/// generator slower than a quarter of the bound) is inconclusive, not failed. Convergence
/// must hold: a later whole window up to the next change whose share is outside the
/// tolerance, by more than chance allows (an exact binomial test at p < 0.001), fails too
/// (a weight that reverts, a reload whose old workers keep the old split).
package struct ConvergenceTime: RunCheck {
    package let id = CheckID.convergenceTime
    package let parameters: Set<String> = ["max", "tolerance"]
    package init() {}

    static let windowUs: UInt32 = 1_000_000
    static let stepUs: UInt32 = 100_000
    /// Fewer requests than this in a window say nothing about its share.
    static let minimumRequests = 30
    /// A converged share that later strays this improbably from the weight has left it.
    static let holdAlpha = 0.001

    package struct Evidence: CheckEvidence {
        package struct Change: Encodable, Sendable {
            package var action: String
            package var tolerance: Double
            package var convergenceMs: Double?
            package var lastShare: Double?
            /// The first later window that left the tolerance: its start (ms) and share.
            package var leftAtMs: Double?
            package var leftShare: Double?
            /// The machine over the span the change was judged in (when it was late).
            package var machine: MachineNoise?
        }
        package var boundMs: Double
        package var tolerance: Double
        package var changes: [Change]
        package var failures: [String]
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let bound = spec.max ?? .seconds(1)
        let tolerance = spec.tolerance ?? 0.1
        var rows: [Evidence.Change] = []
        var failures: [String] = []
        var noisy: [String] = []
        let served = SentTimeline(run.records.filter { ($0.outcome == .ok || $0.outcome == .upstreamFault) && $0.servedBy != .unknown })
        let changes = run.weightChanges
        for (index, change) in changes.enumerated() {
            let target = Double(change.to) / 100
            let within = min(tolerance, Double(abs(change.to - change.from)) / 200)
            let segmentEnd = index + 1 < changes.count ? changes[index + 1].calledUs : served.lastUs
            guard segmentEnd >= change.calledUs + Self.windowUs else { continue }
            var start = change.calledUs
            var converged: UInt32?
            var lastShare = 0.0
            while start + Self.windowUs <= segmentEnd {
                let window = served.counts(from: start, to: start + Self.windowUs)
                if window.total >= Self.minimumRequests {
                    lastShare = Double(window.green) / Double(window.total)
                    if abs(lastShare - target) <= within {
                        converged = start
                        break
                    }
                }
                start += Self.stepUs
            }
            let label = "\(change.action.label) (\(change.from) → \(change.to) %) at \(Double(change.calledUs) / 1e6)s"
            let elapsedUs = converged.map { $0 > change.calledUs ? $0 - change.calledUs : 0 }
            // It must stay: every later whole window up to the next change.
            var left: (atUs: UInt32, share: Double)?
            if let converged {
                var next = converged + Self.windowUs
                while left == nil, next + Self.windowUs <= segmentEnd {
                    let window = served.counts(from: next, to: next + Self.windowUs)
                    let share = window.total > 0 ? Double(window.green) / Double(window.total) : target
                    if window.total >= Self.minimumRequests, abs(share - target) > within,
                        BinomialTest.pValue(successes: window.green, trials: window.total, probability: min(max(target, 0.001), 0.999)) < Self.holdAlpha
                    {
                        left = (next, share)
                    }
                    next += Self.windowUs
                }
            }
            var machine: MachineNoise?
            var failure: String?
            if let left {
                failure =
                    "\(label): converged, then left its weight: the window from \(Double(left.atUs) / 1e6)s had green at \(String(format: "%.3f", left.share)) (tolerance \(within) of \(target))"
            } else if let elapsedUs, UInt64(elapsedUs) > bound.microseconds {
                failure = "\(label): converged after \(Double(elapsedUs) / 1000) ms"
            } else if elapsedUs == nil {
                failure = "\(label): never within \(within) of \(target) (last window \(String(format: "%.3f", lastShare)))"
            }
            if let failure, left != nil {
                // Where sessions go is the router's doing, however slow the machine.
                failures.append(failure)
            } else if let failure {
                let spanEnd = change.calledUs &+ UInt32(min(UInt64(UInt32.max / 2), bound.microseconds)) &+ Self.windowUs
                let noise = run.machine.noise(fromUs: change.calledUs, toUs: spanEnd, boundUs: UInt32(min(UInt64(UInt32.max), bound.microseconds / 4)))
                machine = noise
                if noise.noisy { noisy.append("\(failure), while \(noise.reason ?? "the machine was slow")") } else { failures.append(failure) }
            }
            rows.append(
                Evidence.Change(
                    action: label, tolerance: within, convergenceMs: elapsedUs.map { Double($0) / 1000 }, lastShare: converged == nil ? lastShare : nil,
                    leftAtMs: left.map { Double($0.atUs) / 1000 }, leftShare: left?.share, machine: machine))
        }
        let evidence = Evidence(boundMs: Double(bound.microseconds) / 1000, tolerance: tolerance, changes: rows, failures: failures)
        guard !rows.isEmpty else {
            return .inconclusive(name, "no weight change with a second of traffic after it (\(changes.count) changes)", evidence)
        }
        if failures.isEmpty, !noisy.isEmpty {
            return .inconclusive(name, "late only while the machine was slow: " + noisy.joined(separator: "; "), evidence)
        }
        return CheckResult(
            name: name, status: failures.isEmpty ? .pass : .fail,
            summary:
                "\(failures.count) of \(rows.count) weight changes took longer than \(DurationText.format(bound)) to show within their tolerance or did not stay there"
                + (failures.isEmpty ? "" : ": " + failures.prefix(3).joined(separator: "; ")),
            evidence: evidence)
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
        let a = times.insertionIndex(of: from)
        let b = times.insertionIndex(of: to)
        return (b - a, greenBefore[b] - greenBefore[a])
    }
}
