/// The run per second of the schedule: who served, what failed, and latency, for the
/// HTML report's charts.
struct SecondSeries {
    struct Second {
        var blue = 0
        var green = 0
        var upstreamFaults = 0
        var dropped = 0
        var notSent = 0
        var p50Ms = 0.0
        var p99Ms = 0.0
    }

    let seconds: [Second]

    init(_ records: [LedgerRecord]) {
        var seconds: [Second] = []
        var latencies: [[UInt32]] = []
        for record in records {
            let index = Int(record.intendedUs / 1_000_000)
            while seconds.count <= index {
                seconds.append(Second())
                latencies.append([])
            }
            switch record.outcome {
            case .ok:
                if record.servedBy == .green { seconds[index].green += 1 } else { seconds[index].blue += 1 }
                latencies[index].append(record.correctedLatencyUs)
            case .upstreamFault: seconds[index].upstreamFaults += 1
            case .routerError, .transport: seconds[index].dropped += 1
            case .notSent: seconds[index].notSent += 1
            case .cancelled: break
            }
        }
        for index in seconds.indices {
            seconds[index].p50Ms = Percentile.of(latencies[index], 0.5).map { Double($0) / 1000 } ?? 0
            seconds[index].p99Ms = Percentile.of(latencies[index], 0.99).map { Double($0) / 1000 } ?? 0
        }
        self.seconds = seconds
    }
}
