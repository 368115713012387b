/// What a running suite tells its observer (the CLI's live progress), as it happens.
package enum RunEvent: Sendable {
    /// Mocks and router are up; load is about to start.
    case started(routerURL: String, blue: String, green: String)
    /// One timeline step was carried out, described in one line.
    case step(atUs: UInt32, text: String)
    /// A periodic snapshot of the load.
    case progress(ProgressSnapshot)
    /// Load ended; checks are being evaluated.
    case loadFinished
}

/// Live figures for the progress line.
package struct ProgressSnapshot: Sendable {
    package var elapsedSeconds: Double
    package var durationSeconds: Double
    package var phase: String
    /// Requests finished per second over the last interval.
    package var rate: Double
    package var ok: Int
    package var dropped: Int
    /// Green's share of the requests finished so far.
    package var greenShare: Double
}
