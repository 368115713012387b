/// One generator's share of a schedule (`--shard K/N`): the slots whose index is K modulo
/// N. Every shard computes the one global schedule from the seed and carries only its
/// stripe, so session keys and request ids mean the same as in a single run.
package struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// K, from 0.
    package var index: Int
    /// N, the number of shards.
    package var count: Int

    /// The whole schedule: a run that is not split.
    package static let whole = Shard(index: 0, count: 1)

    /// The most shards one schedule is split into.
    package static let maximumCount = 1_024

    package init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// `K/N` with 0 ≤ K < N ≤ 1024; nil otherwise.
    package init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), (1...Self.maximumCount).contains(count), (0..<count).contains(index)
        else {
            return nil
        }
        self.init(index: index, count: count)
    }

    /// Whether slot `seq` (or, in the closed model, client `seq`) is this shard's.
    package func owns(_ seq: Int) -> Bool { seq % count == index }

    /// How many of `total` slots are this shard's.
    package func share(of total: Int) -> Int { total / count + (index < total % count ? 1 : 0) }

    package var description: String { "\(index)/\(count)" }
}
