/// Deterministic completion text: exactly `count` tokens, chosen by the seed, the model
/// and the prompt, so the same request under the same seed always reads the same.
package struct CompletionText: Sendable, Equatable {
    package let tokens: [String]

    private static let vocabulary = [
        "blue", "green", "canary", "router", "relay", "stream", "token", "session", "weight", "promote",
        "rollback", "health", "latency", "request", "upstream", "drain", "switch", "traffic", "model", "chunk",
        "ledger", "check", "split", "sticky", "steady", "window", "signal", "budget", "fault", "replay",
        "seed", "phase", "trace", "gate", "shift", "ready", "proxy", "pool", "queue", "retry",
    ]

    package init(count: Int, seed: UInt64, model: String, prompt: String) {
        let stream = SeededRandom.hash(model) ^ SeededRandom.mix(SeededRandom.hash(prompt))
        var tokens: [String] = []
        tokens.reserveCapacity(count)
        for i in 0..<count {
            let word = Self.vocabulary[Int(SeededRandom.bits(seed: seed, stream: stream, index: UInt64(i)) % UInt64(Self.vocabulary.count))]
            tokens.append(i == 0 ? word : " " + word)
        }
        self.tokens = tokens
    }

    package var text: String { tokens.joined() }
}
