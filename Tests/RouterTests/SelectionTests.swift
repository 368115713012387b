import BlueGreenRouter
import Testing

/// The split itself, as a pure function: stickiness, monotone movement, accuracy.
@Suite("Traffic split")
struct SelectionTests {
    let keys = (0..<20_000).map { "session-\($0)" }

    @Test func sameKeyAndWeightGiveTheSameEnvironment() {
        for weight in [1, 10, 50, 90] {
            for key in keys.prefix(2_000) {
                #expect(TrafficSplit.environment(forKey: key, greenWeight: weight) == TrafficSplit.environment(forKey: key, greenWeight: weight))
            }
        }
    }

    @Test func raisingTheWeightOnlyMovesBlueToGreen() {
        let weights = [0, 1, 5, 10, 25, 50, 75, 99, 100]
        for (low, high) in zip(weights, weights.dropFirst()) {
            for key in keys {
                let before = TrafficSplit.environment(forKey: key, greenWeight: low)
                let after = TrafficSplit.environment(forKey: key, greenWeight: high)
                if before == .green { #expect(after == .green, "\(key) moved green->blue going \(low)->\(high)") }
            }
        }
    }

    @Test(arguments: [1, 10, 33, 50, 90])
    func greenShareMatchesTheWeight(weight: Int) {
        let green = keys.filter { TrafficSplit.environment(forKey: $0, greenWeight: weight) == .green }.count
        let n = Double(keys.count)
        let p = Double(weight) / 100
        let sd = (n * p * (1 - p)).squareRoot()
        #expect(abs(Double(green) - n * p) < 5 * sd, "green \(green) of \(keys.count) at weight \(weight)")
    }

    @Test func zeroAndHundredAreExclusive() {
        #expect(keys.allSatisfy { TrafficSplit.environment(forKey: $0, greenWeight: 0) == .blue })
        #expect(keys.allSatisfy { TrafficSplit.environment(forKey: $0, greenWeight: 100) == .green })
        let state = RouterState()
        #expect((0..<1_000).allSatisfy { _ in state.select(sessionKey: nil) == .blue })
    }

    @Test func requestsWithoutAKeySplitByWeight() {
        let state = RouterState(record: .init(greenWeight: 30))
        let n = 20_000
        let green = (0..<n).filter { _ in state.select(sessionKey: nil) == .green }.count
        let sd = (Double(n) * 0.3 * 0.7).squareRoot()
        #expect(abs(Double(green) - 0.3 * Double(n)) < 5 * sd)
    }
}
