/// One router action as the timeline runner carried it out, on the ledger's clock.
package struct ActionRecord: Sendable, Equatable, Codable {
    /// What the suite expects the router to do with an action (SPEC §4 `expect:`).
    package enum Expectation: String, Sendable, Equatable, CaseIterable, Codable {
        /// Accept it and take effect at the weight asked for (the default).
        case accepted
        /// Refuse it (a health-gated canary while green is down); weights stay.
        case refused
    }

    package var action: RouterAction
    package var expect: Expectation
    package var calledUs: UInt32
    package var returnedUs: UInt32
    /// Whether the router said it accepted the action.
    package var accepted: Bool
    /// Green's weight as the router reported it just before the call (restarts only).
    package var reportedWeightBefore: Int?
    /// Green's weight as the router reported it after the call (nil when it cannot say).
    package var reportedWeightAfter: Int?
    /// The router's answer, for the report (a refusal's reason).
    package var detail: String

    package init(
        action: RouterAction, expect: Expectation = .accepted, calledUs: UInt32, returnedUs: UInt32, accepted: Bool, reportedWeightBefore: Int? = nil,
        reportedWeightAfter: Int? = nil, detail: String = ""
    ) {
        self.action = action
        self.expect = expect
        self.calledUs = calledUs
        self.returnedUs = returnedUs
        self.accepted = accepted
        self.reportedWeightBefore = reportedWeightBefore
        self.reportedWeightAfter = reportedWeightAfter
        self.detail = detail
    }

    /// The weight this action set: the one asked for, when accepted. Traffic is judged
    /// against what was asked, never against what the router says it did.
    package var greenWeight: Int? { accepted ? action.intendedGreenWeight : nil }
}
