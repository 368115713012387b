/// What a running suite tells its observer (the CLI's live progress), as it happens.
public enum RunEvent: Sendable {
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
public struct ProgressSnapshot: Sendable {
    public var elapsedSeconds: Double
    public var durationSeconds: Double
    public var phase: String
    /// Requests finished per second over the last interval.
    public var rate: Double
    public var ok: Int
    public var dropped: Int
    /// Green's share of the requests finished so far.
    public var greenShare: Double
}
