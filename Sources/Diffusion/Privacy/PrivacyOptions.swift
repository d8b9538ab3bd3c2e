import Foundation

/// Differentially private training (DP-SGD, Abadi et al. 2016): every step takes a Poisson
/// sample of the images (each with probability `sampleRate`), clips each image's gradient to
/// `maxGradNorm`, adds Gaussian noise of sd `noiseMultiplier` x `maxGradNorm` to their sum and
/// divides by the expected batch size. `RDPAccountant` turns that into (epsilon, delta).
public struct PrivacyOptions: Codable, Equatable, Sendable {
    /// The clip norm C of each image's gradient.
    public var maxGradNorm: Float
    /// The noise's sd over C.
    public var noiseMultiplier: Double
    public var delta: Double
    /// The epsilon the noise was chosen for (nil when the noise multiplier was given).
    public var targetEpsilon: Double?
    /// Timestep-and-noise draws averaged into each image's gradient before clipping (Dockhorn
    /// et al. 2022's noise multiplicity): less variance at no privacy cost.
    public var noiseDraws: Int = 1
    /// Seed of the privacy noise, drawn from the system's secure generator when the run starts
    /// and kept only in training_state/: with it the noise could be subtracted, so that folder
    /// is as private as the data.
    public var noiseSeed: UInt64

    public init(maxGradNorm: Float, noiseMultiplier: Double, delta: Double, targetEpsilon: Double? = nil, noiseDraws: Int = 1,
                noiseSeed: UInt64) {
        (self.maxGradNorm, self.noiseMultiplier, self.delta) = (maxGradNorm, noiseMultiplier, delta)
        (self.targetEpsilon, self.noiseDraws, self.noiseSeed) = (targetEpsilon, noiseDraws, noiseSeed)
    }
}

/// What privacy.json says about a differentially private run (keys as Opacus' names).
public struct PrivacyRecord: Codable, Equatable, Sendable {
    public var epsilon: Double
    public var delta: Double
    public var noiseMultiplier: Double
    public var sampleRate: Double
    /// Steps taken when the record was written, and the run's total.
    public var steps: Int
    public var plannedSteps: Int
    public var targetEpsilon: Double?
    public var maxGradNorm: Float
    public var noiseDraws: Int
    public var accountant: String

    enum CodingKeys: String, CodingKey {
        case epsilon, delta, noiseMultiplier = "noise_multiplier", sampleRate = "sample_rate", steps
        case plannedSteps = "planned_steps", targetEpsilon = "target_epsilon", maxGradNorm = "max_grad_norm"
        case noiseDraws = "noise_draws", accountant
    }
}
