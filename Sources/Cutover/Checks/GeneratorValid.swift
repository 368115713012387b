import ConfigInput

/// The run itself was valid: every slot was sent, with a p99 scheduling lag within its
/// bound (default 50 ms), and the harness never ran out of descriptors. The generator's
/// own lateness (a busy machine, a lag with transfer slots free) voids the run; slots held
/// back because every transfer slot was waiting on a router that stopped answering
/// (`BackPressure`) are the router's, and fail it.
package struct GeneratorValid: Check {
    package let name = "GeneratorValid"
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
        let sent = run.records.filter { $0.outcome != .notSent }
        let descriptors = run.records.filter(\.descriptorsExhausted).count
        let ownNotSent = run.records.count - sent.count - (routers ? pressure.notSent.count : 0)
        let ownSent = routers ? sent.filter { !$0.heldBack } : sent
        let p99 = Percentile.of(ownSent.map { UInt64($0.lagUs) }, 0.99) ?? 0
        let generatorAtFault = ownNotSent > 0 || p99 > boundUs || sent.isEmpty
        let held = routers ? pressure.notSent.count : 0
        let evidence = Evidence(
            scheduled: run.records.count, notSent: ownNotSent, lagP99Ms: Double(p99) / 1000, boundMs: Double(boundUs) / 1000,
            replayed: sent.filter { $0.attempts > 1 }.count, descriptorsExhausted: descriptors, heldBackByRouter: held,
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
        return CheckResult(name: name, status: generatorAtFault || held > 0 || (routers && pressure.sentLate.count > 0) ? .fail : .pass, summary: summary, evidence: evidence)
    }
}
