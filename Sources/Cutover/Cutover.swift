import Foundation
// The mock upstream relay is part of the public API (faults in suites built in code, and
// tests that want only the mock), so `import Cutover` brings it along.
@_exported import MockUpstream

/// Cutover certifies blue/green router builds for OpenAI-compatible relays: it starts two
/// mock upstreams and the router on loopback, drives a suite's load, router actions and
/// faults, and judges the router from the upstreams' ledgers.
///
/// ```swift
/// let result = try await Cutover.run(suite: .named("smoke"), router: .reference())
/// #expect(result.verdict == .pass, "\(result.summary)")
/// ```
public enum Cutover {
    /// Runs one suite against one router build and judges it.
    ///
    /// Everything the run starts (the mocks, the router and its children, their ports and
    /// scratch folders) is stopped before it returns, whatever the verdict, and also
    /// when the calling task is cancelled: the load then ends at once and the call throws
    /// `CancellationError`.
    ///
    /// - Parameters:
    ///   - suite: A named suite, a suite file, or a suite built in code.
    ///   - router: The router build to certify.
    ///   - seed: Overrides the suite's seed; ``RunResult/seed`` says which one ran.
    ///   - reportDirectory: When given, report.json, junit.xml and report.html are written there.
    /// - Returns: The verdict with every check's status and evidence. A defect in the
    ///   router is a `fail` verdict, not an error.
    /// - Throws: ``CutoverError`` when the router or the mocks cannot be started (or a
    ///   reference router build can be neither found nor built), `CancellationError` when cancelled, and
    ///   the file system's error when the reports cannot be written.
    public static func run(suite: Suite, router: RouterProfile = .reference(), seed: UInt64? = nil, reportDirectory: URL? = nil) async throws -> RunResult {
        try Task.checkCancellation()
        let driver = try await driver(for: router)
        let run: SuiteRun
        do {
            run = try await SuiteRunner(suite: suite, seed: seed, router: driver).run()
        } catch {
            throw CutoverError.environment(error.description)
        }
        try Task.checkCancellation()
        let result = RunResult(run)
        if let reportDirectory { try result.writeReports(to: reportDirectory) }
        return result
    }

    /// The profile's driver; a reference profile must name a build that exists. With no
    /// binary named and no build found, the router is built in the Cutover checkout.
    private static func driver(for profile: RouterProfile) async throws(CutoverError) -> any RouterDriver {
        guard profile.kind == .reference else { return profile.driver() }
        let binary = profile.routerBinary()
        if FileManager.default.isExecutableFile(atPath: binary.path) { return profile.driver() }
        guard profile.binary == nil else {
            throw CutoverError.environment("no bluegreen-router build (looked at \(binary.path)): pass RouterProfile.reference(binary:) a build that exists")
        }
        return profile.driver(referenceBinary: try await ReferenceRouterBuild.build())
    }
}
