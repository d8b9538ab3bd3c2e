import Foundation

/// Privacy spent by DP-SGD: Renyi differential privacy of the sampled Gaussian mechanism
/// (each image joins a step's batch with probability q, the clipped gradient sum gets Gaussian
/// noise of sd `noiseMultiplier` x the clip norm), composed over steps and turned into
/// (epsilon, delta)-DP.
///
/// RDP of one step at order alpha is log(A_alpha) / (alpha - 1) (Mironov, Talwar and Zhang
/// 2019, section 3.3: a binomial sum for integer alpha, a two-sided series with erfc tails for
/// fractional alpha); steps add. The conversion is Balle et al. 2020's (theorem 21):
/// epsilon = min over alpha of rdp - (log delta + log alpha) / (alpha - 1) + log((alpha - 1) / alpha).
/// The orders are Opacus' default set, so the numbers are Opacus' RDP accountant's.
public struct RDPAccountant: Sendable {
    /// 1.1, 1.2, ..., 10.9, then 12, 13, ..., 63.
    public static let orders: [Double] = (1..<100).map { 1 + Double($0) / 10 } + (12..<64).map(Double.init)

    public let noiseMultiplier: Double
    public let sampleRate: Double

    public init(noiseMultiplier: Double, sampleRate: Double) {
        precondition(noiseMultiplier >= 0 && (0...1).contains(sampleRate), "noise \(noiseMultiplier), sample rate \(sampleRate)")
        (self.noiseMultiplier, self.sampleRate) = (noiseMultiplier, sampleRate)
    }

    /// Epsilon after `steps` steps at `delta`, and the order that gives it.
    public func epsilon(steps: Int, delta: Double) -> (epsilon: Double, order: Double) {
        guard steps > 0 else { return (0, 0) }
        var best = (epsilon: Double.infinity, order: Double.nan)
        for alpha in Self.orders {
            let rdp = Double(steps) * Self.rdp(q: sampleRate, sigma: noiseMultiplier, alpha: alpha)
            let epsilon = rdp - (log(delta) + log(alpha)) / (alpha - 1) + log((alpha - 1) / alpha)
            if epsilon < best.epsilon { best = (epsilon, alpha) }
        }
        return best
    }

    /// The smallest noise multiplier (to `tolerance` in epsilon, below the target) that keeps
    /// `steps` steps at sample rate `sampleRate` within (epsilon, delta); nil when even a noise
    /// multiplier of a million does not.
    public static func noiseMultiplier(epsilon target: Double, delta: Double, sampleRate: Double, steps: Int,
                                       tolerance: Double = 1e-3) -> Double? {
        func epsilon(_ sigma: Double) -> Double {
            RDPAccountant(noiseMultiplier: sigma, sampleRate: sampleRate).epsilon(steps: steps, delta: delta).epsilon
        }
        var (low, high) = (0.0, 10.0)
        var atHigh = epsilon(high)
        while atHigh > target {
            (low, high) = (high, 2 * high)
            guard high <= 1e6 else { return nil }
            atHigh = epsilon(high)
        }
        while target - atHigh > tolerance && high - low > 1e-9 {
            let middle = (low + high) / 2
            let atMiddle = epsilon(middle)
            if atMiddle < target { (high, atHigh) = (middle, atMiddle) } else { low = middle }
        }
        return high
    }

    /// RDP of one step of the sampled Gaussian mechanism at order `alpha`.
    static func rdp(q: Double, sigma: Double, alpha: Double) -> Double {
        if q == 0 { return 0 }
        if sigma == 0 { return .infinity }
        if q == 1 { return alpha / (2 * sigma * sigma) }
        let logA = alpha == alpha.rounded() ? logAIntegerOrder(q: q, sigma: sigma, alpha: Int(alpha))
                                            : logAFractionalOrder(q: q, sigma: sigma, alpha: alpha)
        return logA / (alpha - 1)
    }

    /// log A_alpha = log sum_i C(alpha, i) q^i (1 - q)^(alpha - i) exp((i^2 - i) / (2 sigma^2)).
    static func logAIntegerOrder(q: Double, sigma: Double, alpha: Int) -> Double {
        var logA = -Double.infinity
        for i in 0...alpha {
            let term = logBinomial(Double(alpha), i) + Double(i) * log(q) + Double(alpha - i) * log(1 - q)
                + Double(i * i - i) / (2 * sigma * sigma)
            logA = logAdd(logA, term)
        }
        return logA
    }

    /// The fractional-order series: two sums over i = 0, 1, ... whose terms carry erfc tails
    /// around z0 = sigma^2 log(1/q - 1) + 1/2, stopped once both terms fall below e^-30.
    static func logAFractionalOrder(q: Double, sigma: Double, alpha: Double) -> Double {
        var (logA0, logA1) = (-Double.infinity, -Double.infinity)
        let z0 = sigma * sigma * log(1 / q - 1) + 0.5
        var i = 0, coefficient = 1.0   // C(alpha, i), by the recurrence C(alpha, i + 1) = C(alpha, i) (alpha - i) / (i + 1)
        while true {
            let logCoefficient = log(abs(coefficient))
            let j = alpha - Double(i), di = Double(i)
            let logT0 = logCoefficient + di * log(q) + j * log(1 - q)
            let logT1 = logCoefficient + j * log(q) + di * log(1 - q)
            let logE0 = log(0.5) + logErfc((di - z0) / (2.0.squareRoot() * sigma))
            let logE1 = log(0.5) + logErfc((z0 - j) / (2.0.squareRoot() * sigma))
            let logS0 = logT0 + (di * di - di) / (2 * sigma * sigma) + logE0
            let logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1
            if coefficient > 0 {
                (logA0, logA1) = (logAdd(logA0, logS0), logAdd(logA1, logS1))
            } else {
                (logA0, logA1) = (logSubtract(logA0, logS0), logSubtract(logA1, logS1))
            }
            if max(logS0, logS1) < -30 { break }
            coefficient *= (alpha - di) / (di + 1)
            i += 1
        }
        return logAdd(logA0, logA1)
    }

    /// log C(n, k) for a whole n.
    private static func logBinomial(_ n: Double, _ k: Int) -> Double {
        lgamma(n + 1) - lgamma(Double(k) + 1) - lgamma(n - Double(k) + 1)
    }

    /// log(e^x + e^y) without overflow.
    private static func logAdd(_ x: Double, _ y: Double) -> Double {
        let (low, high) = (min(x, y), max(x, y))
        return low == -.infinity ? high : log1p(exp(low - high)) + high
    }

    /// log(e^x - e^y) for x >= y; -infinity when they are equal.
    private static func logSubtract(_ x: Double, _ y: Double) -> Double {
        precondition(x >= y, "log-space subtraction would go negative")
        if y == -.infinity { return x }
        if x == y { return -.infinity }
        let difference = expm1(x - y)
        return difference.isFinite ? log(difference) + y : x
    }

    /// log(erfc(x)), accurate where erfc underflows (x beyond about 26): there the asymptotic
    /// series erfc(x) = e^(-x^2) / (x sqrt(pi)) (1 - 1/(2x^2) + 3/(4x^4) - 15/(8x^6) + ...).
    static func logErfc(_ x: Double) -> Double {
        if x < 20 { return log(erfc(x)) }
        let s = 1 / (2 * x * x)
        let series = 1 - s + 3 * s * s - 15 * s * s * s + 105 * s * s * s * s
        return -x * x - log(x * Double.pi.squareRoot()) + log(series)
    }
}
