import ConfigInput

/// The run itself was valid: every slot was sent, with a p99 scheduling lag within its
/// bound (default 50 ms), and the harness never ran out of descriptors. The generator's
/// own lateness (a busy machine, a lag with transfer slots free) voids the run; slots held
/// back because every transfer slot was waiting on a router that stopped answering
/// (`BackPressure`) are the router's, and fail it.
package struct GeneratorValid: RunCheck {
    package let id = CheckID.generatorValid
    package let parameters: Set<String> = ["max"]
    package init() {}

    package struct Evidence: CheckEvidence {
        package var scheduled: Int
        /// Slots not sent through the generator's own fault.
        package var notSent: Int
        /// p99 scheduling lag of the slots the router did not hold back.
        package var lagP99Ms: Double
        package var boundMs: Double
        /// Requests libcurl sent more than once (a reused connection died first).
        package var replayed: Int
        /// Requests the harness could not open a socket for (`EMFILE`, `ENFILE`).
        package var descriptorsExhausted: Int
        /// Slots never sent, and slots sent late, because every transfer slot was waiting
        /// on the router while the machine was quiet: the router's back-pressure.
        package var heldBackByRouter: Int
        package var sentLateByRouter: Int
        package var firstHeldBack: [String]
        /// The machine while slots were held back.
        package var machine: MachineNoise?
        /// The generator or the harness failed the plan: the run cannot judge the router.
        package var generatorAtFault: Bool
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let bound = spec.max ?? .milliseconds(50)
        let boundUs = bound.microseconds
        let pressure = run.backPressure
        let routers = pressure.isRouters
        var sent = 0
        var descriptors = 0
        var replayed = 0
        var lags: [UInt64] = []
        lags.reserveCapacity(run.records.count)
        for record in run.records {
            if record.descriptorsExhausted { descriptors += 1 }
            guard record.outcome != .notSent else { continue }
            sent += 1
            if record.attempts > 1 { replayed += 1 }
            // The slots the router held back are late by its doing, not the generator's.
            if !(routers && record.heldBack) { lags.append(UInt64(record.lagUs)) }
        }
        let ownNotSent = run.records.count - sent - (routers ? pressure.notSent.count : 0)
        let p99 = Percentile.of(lags, 0.99) ?? 0
        let generatorAtFault = ownNotSent > 0 || p99 > boundUs || sent == 0
        let held = routers ? pressure.notSent.count : 0
        let evidence = Evidence(
            scheduled: run.records.count, notSent: ownNotSent, lagP99Ms: Double(p99) / 1000, boundMs: Double(boundUs) / 1000,
            replayed: replayed, descriptorsExhausted: descriptors, heldBackByRouter: held,
            sentLateByRouter: routers ? pressure.sentLate.count : 0,
            firstHeldBack: routers ? pressure.notSent.prefix(CheckResult.sampleLimit).map { run.requestID(run.records[$0]) } : [],
            machine: pressure.machine, generatorAtFault: generatorAtFault)
        var summary =
            "\(ownNotSent) not-sent slots of \(run.records.count); p99 scheduling lag \(Double(p99) / 1000) ms (bound \(DurationText.format(bound)))"
        if descriptors > 0 { summary += "; the harness ran out of file descriptors for \(descriptors) requests" }
        if routers {
            summary +=
                "; the router held every transfer slot: \(held) slots never sent and \(pressure.sentLate.count) sent late while the machine was quiet (router back-pressure)"
        }
        return CheckResult(
            name: name, status: generatorAtFault || held > 0 || (routers && pressure.sentLate.count > 0) ? .fail : .pass, summary: summary, evidence: evidence)
    }
}
