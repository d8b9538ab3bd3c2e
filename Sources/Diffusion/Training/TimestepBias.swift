/// Training timesteps drawn more often in one part of the schedule: the timestep bias of
/// diffusers' SDXL training script (`--timestep_bias_strategy`, `_multiplier`, `_portion`,
/// `_begin`, `_end`), with its semantics. Every timestep weighs 1, those of the biased part
/// `multiplier`; a timestep is drawn with probability its weight over the sum. "earlier" biases
/// the first `portion` of the timesteps (the low-noise ones), "later" the last `portion`, "range"
/// timesteps `begin..<end`.
///
/// A uniform draw weighs every timestep's loss alike; this one counts the biased part's loss
/// `multiplier` times as much (in expectation), without changing the loss of any one draw.
public struct TimestepBias: Codable, Equatable, Sendable {
    public enum Strategy: String, Codable, CaseIterable, Sendable {
        case earlier, later, range
    }

    public var strategy: Strategy
    public var multiplier: Double
    /// The share of the timesteps that "earlier" and "later" bias.
    public var portion: Double
    /// The biased timesteps of "range": `begin..<end`.
    public var begin: Int
    public var end: Int

    public init(strategy: Strategy, multiplier: Double, portion: Double = 0.25, begin: Int = 0, end: Int = 1000) {
        (self.strategy, self.multiplier, self.portion, self.begin, self.end) = (strategy, multiplier, portion, begin, end)
    }

    /// The biased timesteps of a schedule of `trainTimesteps`.
    public func biased(trainTimesteps: Int) -> Range<Int> {
        let count = Int(portion * Double(trainTimesteps))   // truncated, as diffusers' int()
        switch strategy {
        case .earlier: return 0..<count
        case .later: return (trainTimesteps - count)..<trainTimesteps
        case .range: return begin..<end
        }
    }

    /// What makes this bias unusable with a schedule of `trainTimesteps`, or nil.
    public func problem(trainTimesteps: Int) -> String? {
        if !(multiplier.isFinite && multiplier > 0) { return "timestep bias multiplier \(multiplier) (must be positive)" }
        switch strategy {
        case .earlier, .later:
            if !(portion > 0 && portion <= 1) { return "timestep bias portion \(portion) (must be in (0, 1])" }
        case .range:
            if !(0 <= begin && begin < end && end <= trainTimesteps) {
                return "timestep bias range \(begin)..<\(end) (must lie within 0..<\(trainTimesteps) and not be empty)"
            }
        }
        return nil
    }
}

/// Draws a training timestep from one 32-bit random word: uniformly over 0..<T, or as a
/// `TimestepBias` weighs the timesteps (inverse of the cumulative distribution).
struct TimestepDraw {
    let trainTimesteps: Int
    /// The cumulative weights, scaled to 2^32; nil for a uniform draw.
    private let cumulative: [UInt64]?

    init(trainTimesteps: Int, bias: TimestepBias?) {
        self.trainTimesteps = trainTimesteps
        guard let bias else {
            cumulative = nil
            return
        }
        let biased = bias.biased(trainTimesteps: trainTimesteps)
        let weights = (0..<trainTimesteps).map { biased.contains($0) ? bias.multiplier : 1 }
        let total = weights.reduce(0, +)
        var sum = 0.0
        cumulative = weights.map { weight in
            sum += weight
            return UInt64((sum / total * 4_294_967_296).rounded())
        }
    }

    /// The timestep of `word`. Uniform: floor(word T / 2^32), the draw of every run before the
    /// bias existed, so their timesteps stay as they were.
    func timestep(_ word: UInt32) -> Int {
        guard let cumulative else { return Int((UInt64(word) * UInt64(trainTimesteps)) >> 32) }
        // The first timestep whose cumulative weight exceeds the word.
        var (low, high) = (0, trainTimesteps - 1)
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] > UInt64(word) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
