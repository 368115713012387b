import ConfigInput

/// A stream the client abandons (`cancel:` in the load) must stop upstream too: the
/// upstream's ledger must show the execution ended with the client gone, within the bound
/// (default 1s) after the client left. A router that keeps reading a stream nobody reads
/// keeps the relay generating, and billing, for nobody. An execution that ran to its end is
/// a failure whatever the machine did; one that ended late only while the machine itself
/// was slow is inconclusive.
package struct CancelPropagation: RunCheck {
    package let id = CheckID.cancelPropagation
    package let parameters: Set<String> = ["max", "phases"]
    package init() {}

    package struct Evidence: CheckEvidence {
        package var boundMs: Double
        package var cancelled: Int
        /// Abandoned streams with an upstream execution to judge.
        package var judged: Int
        package var passedOn: Int
        /// Executions that ran to their end after the client left.
        package var keptGenerating: Int
        package var late: Int
        package var examples: [String]
        package var machine: MachineNoise?
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let bound = spec.max ?? .seconds(1)
        let boundUs = Double(bound.microseconds)
        let windows = run.phases(named: spec.phases)
        let cancelled = run.records.filter { record in record.outcome == .cancelled && (spec.phases.isEmpty || windows.contains { $0.contains(record) }) }
        var judged = 0
        var passedOn = 0
        var kept: [String] = []
        var late: [(id: String, fromUs: UInt32, toUs: UInt32, text: String)] = []
        for record in cancelled {
            guard let execution = run.answer(record.seq) else { continue }
            judged += 1
            let entry = execution.entry
            guard entry.outcome != .completed else {
                kept.append(
                    "\(run.requestID(record)): the client left at \(Double(record.doneUs) / 1e6)s, \(execution.env.name) wrote all \(entry.chunks) events anyway"
                )
                continue
            }
            let endedUs = entry.finishMs.map { run.runMicros(ofFinish: $0) } ?? .infinity
            if endedUs - Double(record.doneUs) <= boundUs {
                passedOn += 1
            } else {
                let lateMs = endedUs.isFinite ? "\(Int((endedUs - Double(record.doneUs)) / 1000)) ms" : "never"
                late.append(
                    (
                        run.requestID(record), record.doneUs, UInt32(clamping: Int(min(endedUs, 4e9))),
                        "\(run.requestID(record)): \(execution.env.name) stopped \(lateMs) after the client left"
                    ))
            }
        }
        // Late only while the machine stalled is the machine's doing.
        var machine: MachineNoise?
        var lateCounted = late.count
        if kept.isEmpty, !late.isEmpty {
            let from = late.map(\.fromUs).min()!
            let to = late.map(\.toUs).max()!
            let noise = run.machine.noise(fromUs: from, toUs: to, boundUs: UInt32(boundUs / 4))
            if noise.noisy {
                machine = noise
                lateCounted = 0
            }
        }
        let evidence = Evidence(
            boundMs: boundUs / 1000, cancelled: cancelled.count, judged: judged, passedOn: passedOn, keptGenerating: kept.count, late: late.count,
            examples: (kept + late.map(\.text)).sample, machine: machine)
        guard judged > 0 else {
            return .inconclusive(
                name, cancelled.isEmpty ? "no stream was abandoned (give the load a cancel:)" : "no abandoned stream had reached an upstream", evidence)
        }
        if kept.isEmpty, lateCounted == 0, !late.isEmpty {
            return .inconclusive(name, "\(late.count) cancels reached the upstream late while the machine was slow: \(machine?.reason ?? "")", evidence)
        }
        let failed = kept.count + lateCounted
        return CheckResult(
            name: name, status: failed == 0 ? .pass : .fail,
            summary:
                "\(failed) of \(judged) abandoned streams went on upstream (\(kept.count) ran to their end, \(lateCounted) stopped more than \(DurationText.format(bound)) after the client left); bound 0",
            evidence: evidence)
    }
}

extension CancelPropagation.Evidence {
    package var offendingRequests: [String] { examples }
}
