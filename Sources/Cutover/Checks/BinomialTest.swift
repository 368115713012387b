import Foundation

/// The exact two-sided binomial test: the probability, under Binomial(n, p), of an
/// outcome at most as likely as `k` (the "minimum likelihood" method of R's binom.test).
package enum BinomialTest {
    package static func pValue(successes k: Int, trials n: Int, probability p: Double) -> Double {
        guard n > 0 else { return 1 }
        if p <= 0 { return k == 0 ? 1 : 0 }
        if p >= 1 { return k == n ? 1 : 0 }
        let logP = log(p)
        let logQ = log1p(-p)
        func logGamma(_ x: Double) -> Double {
            let value: Double = lgamma(x)
            return value
        }
        let logNFactorial = logGamma(Double(n) + 1)
        func logPMF(_ i: Int) -> Double {
            logNFactorial - logGamma(Double(i) + 1) - logGamma(Double(n - i) + 1) + Double(i) * logP + Double(n - i) * logQ
        }
        let observed = logPMF(k)
        // Relative tolerance as in R, so ties in floating point count as "as likely".
        let threshold = observed + log1p(1e-7)
        var total = 0.0
        for i in 0...n {
            let l = logPMF(i)
            if l <= threshold { total += exp(l) }
        }
        return min(1, total)
    }
}
