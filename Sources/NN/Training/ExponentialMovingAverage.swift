import Foundation

/// An exponential moving average of parameters with diffusers' EMAModel semantics.
///
/// Update n (1-based) uses s = max(0, n - updateAfterStep - 1); the decay is 0 while s <= 0
/// (the average starts as a copy), then 1 - (1 + s / invGamma)^-power with warm-up, or
/// (1 + s) / (10 + s) without, clamped to [minDecay, maxDecay]. Each update moves the average
/// by (1 - decay) of its distance to the parameter.
public final class ExponentialMovingAverage {
    public let maxDecay: Float, minDecay: Float
    public let updateAfterStep: Int
    public let useWarmup: Bool
    public let invGamma: Float, power: Float
    /// The averaged values, one per tracked parameter.
    public private(set) var averages: [Tensor]
    public private(set) var updates = 0

    public init(parameters: [Variable], maxDecay: Float = 0.9999, minDecay: Float = 0, updateAfterStep: Int = 0,
                useWarmup: Bool = true, invGamma: Float = 1, power: Float = 0.75) {
        averages = parameters.map(\.value)
        (self.maxDecay, self.minDecay, self.updateAfterStep) = (maxDecay, minDecay, updateAfterStep)
        (self.useWarmup, self.invGamma, self.power) = (useWarmup, invGamma, power)
    }

    /// Continues from a saved state: the averages and the number of updates made.
    public func restore(averages: [Tensor], updates: Int) {
        precondition(averages.count == self.averages.count, "EMA state for \(averages.count) parameters, tracking \(self.averages.count)")
        self.averages = averages
        self.updates = updates
    }

    /// The decay of update number `n`.
    public func decay(atUpdate n: Int) -> Float {
        let s = Float(max(0, n - updateAfterStep - 1))
        guard s > 0 else { return 0 }
        let decay = useWarmup ? 1 - Foundation.pow(1 + s / invGamma, -power) : (1 + s) / (10 + s)
        return max(minDecay, min(decay, maxDecay))
    }

    /// Moves each average towards its parameter's current value.
    public func update(_ parameters: [Variable]) {
        precondition(parameters.count == averages.count, "EMA tracks \(averages.count) parameters, got \(parameters.count)")
        updates += 1
        let rate = 1 - decay(atUpdate: updates)
        for (i, parameter) in parameters.enumerated() {
            let pa = averages[i].mutablePointer(), pp = parameter.value.pointer
            parallelChunks(parameter.value.count) { range in
                for j in range { pa[j] -= rate * (pa[j] - pp[j]) }
            }
        }
    }
}
