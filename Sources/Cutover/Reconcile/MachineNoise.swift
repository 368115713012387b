/// What the machine did in one span of the run, apart from the router: the control
/// probe's time to first byte above its own typical value, and the generator's
/// scheduling lag. A slowdown that shows here too is the machine's, not the router's.
package struct MachineNoise: Sendable, Encodable, Equatable {
    package var fromMs: Double
    package var toMs: Double
    /// Control probes scheduled in the span.
    package var controlSamples: Int
    /// p90 of the control probes' time to first byte (from their intended send time)
    /// minus the control path's median over the whole run.
    package var controlExcessP90Ms: Double
    /// p99 of the router path's scheduling lag in the span.
    package var generatorLagP99Ms: Double
    /// The machine was too slow in the span to judge the router by time.
    package var noisy: Bool
    /// Why, when it was.
    package var reason: String?
}
