import Foundation
import HTTPServerCore

/// How one environment did on its last health check.
package struct EnvironmentHealth: Sendable, Equatable {
    package enum Status: String, Sendable {
        /// Reachable, lists its models, every probed model answers, and fast enough.
        case healthy
        /// Serving, but slow or with some probed models failing.
        case degraded
        /// Not reachable, or cannot serve completions.
        case unhealthy
        /// Not checked yet.
        case unknown
    }

    package var status: Status
    /// Slowest probe of the check, in milliseconds.
    package var latencyMs: Double?
    package var checkedAt: Date?
    /// What the check saw, in words: the reason behind a non-healthy status.
    package var detail: String

    package init(status: Status, latencyMs: Double? = nil, checkedAt: Date? = nil, detail: String) {
        self.status = status
        self.latencyMs = latencyMs
        self.checkedAt = checkedAt
        self.detail = detail
    }

    package static let unchecked = EnvironmentHealth(status: .unknown, detail: "not checked yet")

    package var json: JSON {
        .object([
            ("status", .string(status.rawValue)),
            ("latency_ms", latencyMs.map { .double(($0 * 10).rounded() / 10) } ?? .null),
            ("checked_at", checkedAt.map { .string(ISO8601DateFormatter().string(from: $0)) } ?? .null),
            ("detail", .string(detail)),
        ])
    }
}
