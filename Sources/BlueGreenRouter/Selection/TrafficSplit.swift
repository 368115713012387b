/// Chooses the environment for a request from green's weight (0–100).
///
/// With a session key, the key hashes to one of 10,000 buckets and green serves the
/// buckets below `weight × 100`. So a session keeps its environment while the weight
/// is unchanged, and moving the weight only moves sessions in its own direction:
/// raising it moves some blue sessions to green and never the reverse.
package enum TrafficSplit {
    /// Buckets per session key space; 0.01 % resolution.
    package static let buckets: UInt64 = 10_000

    /// The bucket of a session key: FNV-1a, then a 64-bit finaliser for an even spread.
    package static func bucket(of key: some StringProtocol) -> UInt64 { bucket(ofBytes: key.utf8) }

    /// The bucket of a session key's UTF-8 bytes (as the proxy reads them off the wire).
    package static func bucket(ofBytes key: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        hash ^= hash >> 33
        hash = hash &* 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        hash = hash &* 0xC4CE_B9FE_1A85_EC53
        hash ^= hash >> 33
        return hash % buckets
    }

    /// The environment of a session key at this green weight.
    package static func environment(forKey key: some StringProtocol, greenWeight: Int) -> Environment {
        environment(bucket: bucket(of: key), greenWeight: greenWeight)
    }

    /// The environment of a session key's bucket at this green weight.
    package static func environment(bucket: UInt64, greenWeight: Int) -> Environment {
        bucket < UInt64(greenWeight) * (buckets / 100) ? .green : .blue
    }

    /// A weighted random choice for requests without a session key.
    package static func environment(random: UInt64, greenWeight: Int) -> Environment {
        random % buckets < UInt64(greenWeight) * (buckets / 100) ? .green : .blue
    }
}
