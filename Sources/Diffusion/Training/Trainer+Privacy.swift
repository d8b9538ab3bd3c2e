import Foundation
import NN

/// DP-SGD steps (`options.privacy`): Poisson-sampled batches, per-image clipped gradients,
/// Gaussian noise on their sum, the expected batch size as the divisor.
extension Trainer {
    /// The probability that an image joins a step's batch: the batch size over the images.
    public var sampleRate: Double { min(1, Double(options.batchSize) / Double(dataset.count)) }

    /// The dataset images of step `step`'s Poisson sample: each joins on its own with
    /// probability `sampleRate`, drawn from (seed, step, image), so the batch size varies.
    public func poissonBatch(step: Int) -> [Int] {
        let draws = Philox(seed: SeedSequence.derive(options.seed, Stream.poisson.rawValue))
        let threshold = UInt64(sampleRate * 4_294_967_296)
        return (0..<dataset.count).filter { i in UInt64(draws.block(UInt64(step) * UInt64(dataset.count) + UInt64(i))[0]) < threshold }
    }

    /// (epsilon, delta) spent by the steps taken so far; nil for a run without privacy.
    public var privacySpent: PrivacyRecord? {
        guard let privacy = options.privacy else { return nil }
        let accountant = RDPAccountant(noiseMultiplier: privacy.noiseMultiplier, sampleRate: sampleRate)
        return PrivacyRecord(epsilon: accountant.epsilon(steps: step, delta: privacy.delta).epsilon, delta: privacy.delta,
                             noiseMultiplier: privacy.noiseMultiplier, sampleRate: sampleRate, steps: step,
                             plannedSteps: options.steps, targetEpsilon: privacy.targetEpsilon, maxGradNorm: privacy.maxGradNorm,
                             noiseDraws: privacy.noiseDraws, accountant: "rdp")
    }

    /// Each image of `images`: its gradient (the mean over `noiseDraws` timestep-and-noise
    /// draws), clipped to norm `maxGradNorm`, summed over the images; the parameters'
    /// gradients are left cleared. Returns the sum and the images' mean loss.
    func clippedGradientSum(of images: [Int], privacy: PrivacyOptions) throws -> (sum: [[Float]], loss: Float) {
        var sum = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        let draws = privacy.noiseDraws
        let flipWords = Philox(seed: SeedSequence.derive(options.seed, Stream.flips.rawValue))
        var lossSum: Float = 0
        for image in images {
            // Draws are numbered by (step, image, k): each is used once in the run.
            let first = (step * dataset.count + image) * draws
            let flips = (0..<draws).map { k in options.randomFlip && flipWords.block(UInt64(first + k))[0] & 1 == 1 }
            lossSum += try backward(images: [Int](repeating: image, count: draws), flips: flips, draws: first, weight: 1)
            var squares = 0.0
            for parameter in parameters {
                guard let gradient = parameter.gradient else { continue }
                gradient.withUnsafeBufferPointer { g in for v in g { squares += Double(v) * Double(v) } }
            }
            // Opacus' factor: C / (norm + 1e-6), at most 1.
            let scale = min(1, privacy.maxGradNorm / (Float(squares.squareRoot()) + 1e-6))
            for (p, parameter) in parameters.enumerated() {
                guard let gradient = parameter.gradient else { continue }
                gradient.withUnsafeBufferPointer { g in
                    sum[p].withUnsafeMutableBufferPointer { s in for i in 0..<s.count { s[i] += scale * g[i] } }
                }
                parameter.gradient = nil
            }
        }
        return (sum, images.isEmpty ? 0 : lossSum / Float(images.count))
    }

    /// One DP-SGD step: the Poisson sample's clipped gradient sum, plus noise of sd
    /// noiseMultiplier x maxGradNorm in every coordinate (from the run's secret noise seed),
    /// over the expected batch size; then AdamW and the EMA as usual (no further clipping).
    /// Returns the sample's mean loss (0 for an empty sample, which still takes its noisy step).
    func privateTrainStep() throws -> Float {
        let privacy = options.privacy!
        let (sum, loss) = try clippedGradientSum(of: poissonBatch(step: step), privacy: privacy)
        let sd = Float(privacy.noiseMultiplier) * privacy.maxGradNorm
        let expectedBatch = Float(sampleRate * Double(dataset.count))
        let total = parameters.reduce(0) { $0 + $1.value.count }
        var offset = step * total
        for (p, parameter) in parameters.enumerated() {
            let noise = Tensor.randn([sum[p].count], seed: privacy.noiseSeed, offset: offset).scalars
            offset += sum[p].count
            parameter.gradient = Tensor(shape: parameter.value.shape, (0..<noise.count).map { (sum[p][$0] + sd * noise[$0]) / expectedBatch })
        }
        stepOptimizer()
        return loss
    }
}
