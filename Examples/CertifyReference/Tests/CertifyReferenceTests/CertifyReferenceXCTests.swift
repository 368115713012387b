import Cutover
import Foundation
import XCTest

/// The same API from XCTest.
final class CertifyReferenceXCTests: XCTestCase {
    func testReferenceRouterPassesTheCodeSuite() async throws {
        let result = try await Cutover.run(suite: try shortCanary(), router: .reference())
        XCTAssertEqual(result.verdict, .pass, result.summary)
    }

    /// `make test` runs this one alone, with CUTOVER_SHOW_FAILURE=1, to see the failure
    /// as XCTest prints it.
    func testFailureAsXCTestShowsIt() async throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["CUTOVER_SHOW_FAILURE"] == "1", "shown on demand")
        let result = try await Cutover.run(suite: try shortCanary(), router: try wrongSessionKeyRouter())
        XCTAssertEqual(result.verdict, .pass, result.summary)
    }
}
