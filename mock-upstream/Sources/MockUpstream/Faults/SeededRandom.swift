/// Counter-based randomness: the n-th draw of a stream depends only on (seed, stream, n),
/// so a seed replays the same fault decisions no matter which thread evaluates them.
package enum SeededRandom {
    /// SplitMix64's finaliser: a fast, well-mixed 64-bit hash.
    @inlinable
    package static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A 64-bit value for draw `index` of `stream` under `seed`.
    @inlinable
    package static func bits(seed: UInt64, stream: UInt64, index: UInt64) -> UInt64 {
        mix(mix(seed ^ mix(stream)) &+ index)
    }

    /// A uniform double in [0, 1) for draw `index` of `stream` under `seed`.
    @inlinable
    package static func unit(seed: UInt64, stream: UInt64, index: UInt64) -> Double {
        Double(bits(seed: seed, stream: stream, index: index) >> 11) * 0x1.0p-53
    }

    /// FNV-1a over a string, to turn names (fault ids, prompts) into stream numbers.
    package static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return h
    }
}

/// A seeded generator for the places that need a sequence rather than random access.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SeededRandom.mix(state &- 0x9E37_79B9_7F4A_7C15)
    }
}
