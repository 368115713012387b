import Foundation
import HTTPServerCore

/// `report.json`: the run as data (SPEC §4's keys and more).
package enum RunReport {
    package static func json(_ run: SuiteRun) -> JSON {
        func seconds(_ us: UInt32) -> JSON { us == .max ? .null : .double((Double(us) / 1_000).rounded() / 1_000) }
        return .object([
            ("suite", .string(run.suite.name)),
            ("description", .string(run.suite.description)),
            ("router", build(run.build)),
            ("weights_reported_by", weightSource(run.history.weightSource)),
            ("seed", .int(Int(truncatingIfNeeded: run.seed))),
            ("verdict", .string(run.verdict.rawValue)),
            ("invalid_reason", .optional(run.invalidReason)),
            ("started_at", .string(ISO8601DateFormatter().string(from: run.startedAt))),
            (
                "checks",
                .array(
                    run.checks.map {
                        .object([
                            ("name", .string($0.name)), ("status", .string($0.status.rawValue)), ("summary", .string($0.summary)),
                            ("evidence", $0.evidenceValue),
                        ])
                    })
            ),
            (
                "phases",
                .array(
                    run.history.phases.map {
                        .object([
                            ("name", .string($0.name)), ("start_s", seconds($0.startUs)), ("end_s", seconds($0.endUs)), ("green_weight", .int($0.greenWeight)),
                            ("opened_s", seconds($0.openedUs)), ("closed_s", seconds($0.closedUs)),
                        ])
                    })
            ),
            (
                "actions",
                .array(
                    run.history.actions.map {
                        .object([
                            ("name", .string($0.action.name)), ("percent", $0.action.intendedGreenWeight.map { .int($0) } ?? .null),
                            ("expect", .string($0.expect.rawValue)), ("called_s", seconds($0.calledUs)), ("returned_s", seconds($0.returnedUs)),
                            ("accepted", .bool($0.accepted)), ("reported_green_weight", $0.reportedWeightAfter.map { .int($0) } ?? .null),
                            ("detail", .string($0.detail)),
                        ])
                    })
            ),
            (
                "faults",
                .array(
                    run.history.faults.map {
                        .object([
                            ("target", .string($0.target.name)), ("id", .string($0.id)), ("kind", .string($0.fault.kind.name)),
                            ("start_s", seconds($0.startUs)),
                            ("end_s", seconds($0.endUs)),
                        ])
                    })
            ),
            ("machine", JSON.encoding(run.paths) ?? .null),
            ("streams", JSON.encoding(run.streams) ?? .null),
            ("exposure", JSON.encoding(run.exposure) ?? .null),
            ("timeline", .array(run.log.map { .string($0) })),
            ("load", run.summary.json(valid: run.invalidReason == nil)),
        ])
    }

    static func build(_ build: RouterBuild) -> JSON {
        .object([
            ("profile", .string(build.profile)), ("version", .string(build.version)), ("sha256", .string(build.sha256)),
            ("executable", .string(build.executable)),
        ])
    }

    /// Whose figure each action's `reported_green_weight` is, and why when not the router's.
    static func weightSource(_ source: WeightSource) -> JSON {
        switch source {
        case .router: .object([("source", .string("router"))])
        case .driver(let reason): .object([("source", .string("driver")), ("reason", .string(reason))])
        }
    }
}
