import HTTPServerCore

/// The verdict of a set of runs (a certification set, or one suite run `--repeat N`
/// times): per check across all runs with its pass / fail / inconclusive counts, and
/// overall, naming the router build (profile, version, executable hash) and the seeds.
package struct Certification: Sendable {
    /// One check across the set.
    package struct CheckTally: Sendable {
        package var name: String
        /// Failed anywhere, else inconclusive anywhere, else passed somewhere, else skipped.
        package var status: CheckResult.Status
        /// The suites behind that status (the failing ones, the inconclusive ones, …).
        package var suites: [String]
        /// Runs per status.
        package var counts: [CheckResult.Status: Int]

        /// `pass 19 · fail 0 · inconclusive 1`.
        package var countText: String {
            CheckResult.Status.allCases.filter { counts[$0, default: 0] > 0 || $0 != .skipped }.map { "\($0.rawValue) \(counts[$0, default: 0])" }
                .joined(separator: " · ")
        }
    }

    package var set: String
    package var runs: [SuiteRun]
    /// Suites whose environment could not be set up.
    package var invalidSuites: [String]

    package init(set: String, runs: [SuiteRun], invalidSuites: [String]) {
        self.set = set
        self.runs = runs
        self.invalidSuites = invalidSuites
    }

    package var verdict: Verdict {
        // A defect proven anywhere fails the set; otherwise anything not judged voids it.
        if runs.contains(where: { $0.verdict == .fail }) { return .fail }
        if !invalidSuites.isEmpty || runs.contains(where: { $0.verdict == .invalid }) { return .invalid }
        return .pass
    }

    /// Each check's status across the set: failed anywhere, else inconclusive anywhere,
    /// else passed somewhere, else skipped.
    package var perCheck: [CheckTally] {
        var order: [String] = []
        var results: [String: [(suite: String, status: CheckResult.Status)]] = [:]
        for run in runs {
            for check in run.checks {
                if results[check.name] == nil { order.append(check.name) }
                results[check.name, default: []].append((run.suite.name, check.status))
            }
        }
        return order.map { name in
            let list = results[name]!
            let counts = Dictionary(grouping: list, by: \.status).mapValues(\.count)
            func suites(_ status: CheckResult.Status) -> [String] {
                list.filter { $0.status == status }.map(\.suite).reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
            }
            for status in [CheckResult.Status.fail, .inconclusive, .pass] where !suites(status).isEmpty {
                return CheckTally(name: name, status: status, suites: suites(status), counts: counts)
            }
            return CheckTally(name: name, status: .skipped, suites: [], counts: counts)
        }
    }

    package var text: String {
        var lines = ["CERTIFICATION \(set)"]
        if let build = runs.first?.build {
            lines.append("router \(build.profile) version \(build.version) sha256 \(build.sha256.isEmpty ? "n/a" : build.sha256)")
            lines.append("executable \(build.executable)")
        }
        lines.append("suites: " + runs.map { "\($0.suite.name) (seed \($0.seed)) \($0.verdict.rawValue)" }.joined(separator: ", "))
        if !invalidSuites.isEmpty { lines.append("could not run: " + invalidSuites.joined(separator: ", ")) }
        let width = max(22, (perCheck.map(\.name.count).max() ?? 0) + 2)
        for row in perCheck {
            let status = row.status.rawValue.uppercased().padding(toLength: 14, withPad: " ", startingAt: 0)
            let place: String =
                switch row.status {
                case .fail: "failed in " + row.suites.joined(separator: ", ")
                case .inconclusive: "could not judge in " + row.suites.joined(separator: ", ")
                case .pass: "\(row.suites.count) suites"
                case .skipped: ""
                }
            let note = place + "  (\(row.countText))"
            lines.append(row.name.padding(toLength: width, withPad: " ", startingAt: 0) + status + note)
        }
        lines.append("OVERALL: \(verdict.rawValue.uppercased())")
        return lines.joined(separator: "\n")
    }

    /// `report.json` of `cutover certify`: one report object per suite and the verdicts.
    package var json: JSON {
        .object([
            ("set", .string(set)),
            ("router", runs.first.map { RunReport.build($0.build) } ?? .null),
            ("verdict", .string(verdict.rawValue)),
            (
                "checks",
                .array(
                    perCheck.map { tally in
                        .object([
                            ("name", .string(tally.name)), ("status", .string(tally.status.rawValue)), ("suites", .array(tally.suites.map { .string($0) })),
                            ("counts", .object(CheckResult.Status.allCases.map { ($0.rawValue, .int(tally.counts[$0, default: 0])) })),
                        ])
                    })
            ),
            ("invalid_suites", .array(invalidSuites.map { .string($0) })),
            ("suites", .array(runs.map { RunReport.json($0) })),
        ])
    }
}
