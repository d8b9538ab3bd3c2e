import Foundation

/// Everything that determines a training run, saved with its checkpoints so that a resumed run
/// continues the same run.
public struct TrainingOptions: Codable, Equatable, Sendable {
    public var data: String
    public var resolution: Int
    public var channels: Int
    /// The total number of optimizer steps (a resumed run stops here too).
    public var steps: Int
    public var batchSize: Int = 64
    public var learningRate: Double = 1e-4
    public var warmupSteps: Int = 500
    public var adamBeta1: Double = 0.95
    public var adamBeta2: Double = 0.999
    public var adamEps: Double = 1e-8
    public var weightDecay: Double = 1e-6
    public var gradientClip: Float = 1
    public var emaMaxDecay: Float = 0.9999
    public var emaInvGamma: Float = 1
    public var emaPower: Float = 0.75
    public var predictionType: String = "epsilon"
    public var betaSchedule: String = "linear"
    public var trainTimesteps: Int = 1000
    /// Min-SNR loss weighting (Hang et al. 2023) with this gamma; nil for plain MSE.
    public var minSNRGamma: Float?
    /// Timesteps drawn more often in one part of the schedule; nil for uniform draws.
    public var timestepBias: TimestepBias?
    /// Classifier-free guidance training (Ho and Salimans 2022): each image's label becomes the
    /// model's last, "no class" row with this probability; nil or 0 for none.
    public var classDropout: Float?
    public var randomFlip: Bool = false
    /// Differentially private training (DP-SGD); nil for plain training.
    public var privacy: PrivacyOptions?
    public var seed: UInt64 = 0
    /// The model folder a fine-tuning run started from (`--init-from`); nil for random weights.
    public var initFrom: String?
    public var skipBad: Bool = false
    /// How often the run saves a checkpoint and writes a sample grid (0: never), kept so that a
    /// resumed run goes on as it started; nil in states saved before they were kept.
    public var checkpointEvery: Int?
    public var sampleEvery: Int?

    public init(data: String, resolution: Int, channels: Int, steps: Int) {
        (self.data, self.resolution, self.channels, self.steps) = (data, resolution, channels, steps)
    }

    /// What makes these options impossible to train with (read from a file someone may have
    /// edited), or nil: counts out of range, rates and decays outside their intervals.
    public var problem: String? {
        if !(1...1_000_000_000).contains(steps) { return "steps \(steps)" }
        if !(1...65536).contains(batchSize) { return "batch size \(batchSize)" }
        if !(4...1024).contains(resolution) || !(channels == 1 || channels == 3) { return "images \(channels)x\(resolution)x\(resolution)" }
        if !(learningRate > 0 && learningRate < 1) || warmupSteps < 0 { return "learning rate \(learningRate), warm-up \(warmupSteps)" }
        for (name, value) in [("adam_beta1", adamBeta1), ("adam_beta2", adamBeta2), ("ema_max_decay", Double(emaMaxDecay))]
            where !(value >= 0 && value < 1) {
            return "\(name) \(value)"
        }
        if let gamma = minSNRGamma, !(gamma.isFinite && gamma > 0) { return "min-SNR gamma \(gamma)" }
        if let dropout = classDropout, !(dropout >= 0 && dropout < 1) { return "class dropout \(dropout)" }
        if !(1...100_000).contains(trainTimesteps) { return "train timesteps \(trainTimesteps)" }
        if let problem = timestepBias?.problem(trainTimesteps: trainTimesteps) { return problem }
        return nil
    }

    /// The learning rate of step `step` (0-based): linear warm-up from 0, then a half cosine
    /// down to 0 at the last step, as diffusers' get_cosine_schedule_with_warmup.
    public func learningRate(atStep step: Int) -> Double {
        if step < warmupSteps { return learningRate * Double(step) / Double(max(1, warmupSteps)) }
        let progress = Double(step - warmupSteps) / Double(max(1, steps - warmupSteps))
        return learningRate * max(0, 0.5 * (1 + cos(Double.pi * progress)))
    }
}
