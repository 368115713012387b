import HTTPServerCore

/// The verdict of a certification set: per check across all suites, and overall, naming
/// the router build (profile, version, executable hash) and the seeds.
public struct Certification: Sendable {
    public var set: String
    public var runs: [SuiteRun]
    /// Suites whose environment could not be set up.
    public var invalidSuites: [String]

    public init(set: String, runs: [SuiteRun], invalidSuites: [String]) {
        self.set = set
        self.runs = runs
        self.invalidSuites = invalidSuites
    }

    public var verdict: SuiteRun.Verdict {
        // A defect proven anywhere fails the set; otherwise anything not judged voids it.
        if runs.contains(where: { $0.verdict == .fail }) { return .fail }
        if !invalidSuites.isEmpty || runs.contains(where: { $0.verdict == .invalid }) { return .invalid }
        return .pass
    }

    /// Each check's status across the set: failed anywhere, else inconclusive anywhere,
    /// else passed somewhere, else skipped.
    public var perCheck: [(name: String, status: CheckResult.Status, suites: [String])] {
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
            let failed = list.filter { $0.status == .fail }.map(\.suite)
            if !failed.isEmpty { return (name, .fail, failed) }
            let inconclusive = list.filter { $0.status == .inconclusive }.map(\.suite)
            if !inconclusive.isEmpty { return (name, .inconclusive, inconclusive) }
            let passed = list.filter { $0.status == .pass }.map(\.suite)
            return passed.isEmpty ? (name, .skipped, []) : (name, .pass, passed)
        }
    }

    public var text: String {
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
            let note =
                switch row.status {
                case .fail: "failed in " + row.suites.joined(separator: ", ")
                case .inconclusive: "could not judge in " + row.suites.joined(separator: ", ")
                case .pass: "\(row.suites.count) suites"
                case .skipped: ""
                }
            lines.append(row.name.padding(toLength: width, withPad: " ", startingAt: 0) + status + note)
        }
        lines.append("OVERALL: \(verdict.rawValue.uppercased())")
        return lines.joined(separator: "\n")
    }

    /// `report.json` of `cutover certify`: one report object per suite and the verdicts.
    public var json: JSON {
        .object([
            ("set", .string(set)),
            ("router", runs.first.map { RunReport.build($0.build) } ?? .null),
            ("verdict", .string(verdict.rawValue)),
            (
                "checks",
                .array(
                    perCheck.map {
                        .object([("name", .string($0.name)), ("status", .string($0.status.rawValue)), ("suites", .array($0.suites.map { .string($0) }))])
                    })
            ),
            ("invalid_suites", .array(invalidSuites.map { .string($0) })),
            ("suites", .array(runs.map { RunReport.json($0) })),
        ])
    }
}
