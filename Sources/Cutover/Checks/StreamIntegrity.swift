/// Every stream open across a switch (a weight change or a restart) ends with `[DONE]`
/// and its full token count: as many tokens as the client asked for (`max_tokens`, from
/// the plan: never from what the upstream was asked, which a router may have rewritten),
/// the usage chunk agrees, the answer is the upstream's (reconciled `ok`), and the
/// upstream wrote the whole stream. Streams that an injected upstream fault broke on
/// purpose are the upstream's doing and are left out; delays and stalls break nothing, so
/// they excuse nothing.
package struct StreamIntegrity: RunCheck {
    package let id = CheckID.streamIntegrity
    package let parameters: Set<String> = ["phases"]
    package init() {}

    package struct Evidence: CheckEvidence {
        package var switches: Int
        package var streamsAcrossSwitches: Int
        package var broken: Int
        package var excludedInjected: Int
        package var examples: [String]
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        let switches: [(label: String, calledUs: UInt32, returnedUs: UInt32)] =
            run.weightChanges.map { ($0.action.label, $0.calledUs, $0.returnedUs) }
            + run.actions.filter { $0.action == .restart && $0.accepted }.map { ($0.action.label, $0.calledUs, $0.returnedUs) }
        guard let plan = run.plan else {
            return .inconclusive(
                name, "the run has no load plan to say each stream's length",
                Evidence(switches: switches.count, streamsAcrossSwitches: 0, broken: 0, excludedInjected: 0, examples: []))
        }
        let windows = run.phases(named: spec.phases)
        var across = 0
        var excluded = 0
        var broken: [String] = []
        for record in run.records where record.endpoint == .chatStream && record.outcome != .notSent && record.outcome != .cancelled {
            if !spec.phases.isEmpty, !windows.contains(where: { $0.contains(record) }) { continue }
            let end = record.doneUs == 0 ? UInt32.max : record.doneUs
            guard let action = switches.first(where: { record.sentUs < $0.returnedUs && end > $0.calledUs }) else { continue }
            if record.outcome == .upstreamFault {
                excluded += 1
                continue
            }
            across += 1
            let upstream = run.answer(record.seq)?.entry
            let asked = plan.maxTokens(forSlot: UInt64(record.seq))
            let upstreamWhole = upstream?.completed ?? false
            let usageAgrees = record.usageTokens == 0 || Int(record.usageTokens) == asked
            if !(record.outcome == .ok && record.sawDone && Int(record.tokens) == asked && usageAgrees && upstreamWhole) {
                let upstreamNote = upstream.map { ", upstream \($0.outcome.rawValue) after \($0.chunks) frames" } ?? ", no upstream execution"
                let usageNote = usageAgrees ? "" : ", usage says \(record.usageTokens)"
                broken.append(
                    "\(run.requestID(record)) across \(action.label) at \(Double(action.calledUs) / 1e6)s: \(record.tokens) of \(asked) tokens\(usageNote), [DONE] \(record.sawDone ? "seen" : "missing"), \(record.outcome.name)\(upstreamNote)"
                )
            }
        }
        let evidence = Evidence(
            switches: switches.count, streamsAcrossSwitches: across, broken: broken.count, excludedInjected: excluded, examples: broken.sample)
        guard across > 0 else { return .inconclusive(name, "no stream was open across a switch", evidence) }
        return CheckResult(
            name: name, status: broken.isEmpty ? .pass : .fail,
            summary: "\(broken.count) of \(across) streams open across a switch ended short or without [DONE]; bound 0", evidence: evidence)
    }
}

extension StreamIntegrity.Evidence {
    package var offendingRequests: [String] { examples }
}
