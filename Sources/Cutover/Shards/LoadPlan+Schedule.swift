extension LoadPlan {
    /// A digest of everything that decides the schedule: which slots exist, when each is
    /// due, and what each asks for. Parts of one run share it; a part from another seed,
    /// suite or load differs. (Where the load goes, the timeouts and the threads do not
    /// change the schedule, so they are left out.)
    package var scheduleDigest: String {
        let text = [
            "\(model)", "\(duration)", "\(seed)", "\(sessions)", "\(arrival)", "\(String(describing: thinkTimeMs))", "\(turns)",
            "\(String(describing: cancellation))",
            mix.map { "\($0.endpoint.name):\($0.weight):\($0.tokens):\(String(describing: $0.promptBytes)):\($0.client)" }.joined(separator: ","),
            models.map { "\($0.name):\($0.weight)" }.joined(separator: ","), runID,
        ].joined(separator: "|")
        // FNV-1a, 64 bits: stable across processes and machines, unlike Hasher.
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return String(hash, radix: 16)
    }
}
