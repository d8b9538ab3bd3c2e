import Foundation
import Imaging
import NN

/// One training run of a denoiser on an image dataset (the recipe of diffusers' unconditional
/// training example): each step takes a shuffled batch, noises it at uniformly drawn timesteps
/// (or as a `TimestepBias` weighs them), regresses the denoiser's prediction onto the target of
/// the prediction type (MSE, optionally min-SNR weighted), clips the gradient norm, steps AdamW
/// under a warm-up + cosine learning rate, and updates the EMA of the weights.
///
/// Every random choice of step s (batch order, flips, timesteps, noise) is a pure function of
/// (seed, s), so a run resumed from a checkpoint at step s continues exactly as if it had never
/// stopped.
public final class Trainer {
    public let options: TrainingOptions
    public let denoiser: any Denoiser
    public let dataset: ImageDataset
    public let schedule: NoiseSchedule
    public let prediction: PredictionType
    let parameters: [Variable]
    let optimizer: AdamW
    let ema: ExponentialMovingAverage
    let sampler: BatchSampler
    let timestepDraw: TimestepDraw
    /// Steps completed.
    public internal(set) var step = 0

    /// Seeds of the run's random streams, derived from the run's seed.
    enum Stream: UInt64 { case timesteps = 1, noise = 2, batches = 3, classDropout = 4, poisson = 5, flips = 6 }

    /// The "no class" label of a model trained for classifier-free guidance: the last row of its
    /// class embedding, one more than the dataset's classes; nil otherwise.
    public var nullLabel: Int? {
        guard let classes = denoiser.classCount, classes == dataset.classNames.count + 1 else { return nil }
        return classes - 1
    }

    public init(denoiser: any Denoiser, dataset: ImageDataset, options: TrainingOptions) throws {
        self.options = options
        self.denoiser = denoiser
        self.dataset = dataset
        var config = SchedulerConfig()
        config.numTrainTimesteps = options.trainTimesteps
        config.betaSchedule = options.betaSchedule
        config.predictionType = options.predictionType
        schedule = try config.noiseSchedule()
        prediction = try config.prediction()
        parameters = denoiser.parameters
        optimizer = AdamW(parameters: parameters, learningRate: options.learningRate, beta1: options.adamBeta1,
                          beta2: options.adamBeta2, eps: options.adamEps, weightDecay: options.weightDecay)
        ema = ExponentialMovingAverage(parameters: parameters, maxDecay: options.emaMaxDecay, useWarmup: true,
                                       invGamma: options.emaInvGamma, power: options.emaPower)
        timestepDraw = TimestepDraw(trainTimesteps: schedule.trainTimesteps, bias: options.timestepBias)
        sampler = BatchSampler(count: dataset.count, batchSize: options.batchSize,
                               seed: SeedSequence.derive(options.seed, Stream.batches.rawValue), randomFlip: options.randomFlip)
    }

    /// The scheduler config a model trained this way is saved with.
    public var schedulerConfig: SchedulerConfig {
        var config = SchedulerConfig()
        config.className = "DDPMScheduler"
        config.numTrainTimesteps = options.trainTimesteps
        config.betaStart = 1e-4
        config.betaEnd = 0.02
        config.betaSchedule = options.betaSchedule
        config.predictionType = options.predictionType
        // Clipping the predicted image keeps an undertrained epsilon model's samples in range
        // (its predicted image is its error times up to 1/sqrt(alpha_bar)), but it biases the
        // samplers that clip (DDIM, DDPM): they clip x0 and keep the unclipped noise, so the
        // background, predicted around -1, drifts up at every step. On the shipped v-prediction
        // model it made DDIM 50's backgrounds gray (2.0% of pixels black against 24.4% without,
        // FID 19.5 against 9.0; Samples/gray-floor/). A v or x0 model's predicted image is
        // bounded anyway, so it is saved without clipping.
        config.clipSample = options.predictionType == PredictionType.epsilon.rawValue
        config.varianceType = "fixed_small"
        // Trailing spacing starts every sampler at the last training timestep, where the noise it
        // starts from is what the forward process gives. Leading starts n steps at
        // T - T/n (t = 900 for 10 steps) from pure noise all the same: on the shipped
        // Fashion-MNIST model that costs DPM-Solver++ (2M) at 10 steps FID 1.58 against 0.38
        // (Lin et al. 2024 make the same point).
        config.timestepSpacing = TimestepSpacing.trailing.rawValue
        config.stepsOffset = 0
        return config
    }

    /// The EMA weights under the denoiser's parameter names.
    public var emaWeights: [String: Tensor] {
        Dictionary(uniqueKeysWithValues: zip(denoiser.namedParameters.map(\.name), ema.averages))
    }

    /// Runs step `step` and returns its loss; throws when the loss is not finite (nothing is
    /// updated then).
    @discardableResult
    public func trainStep() throws -> Float {
        if options.privacy != nil { return try privateTrainStep() }
        let loss = try accumulateGradients()
        applyGradients()
        return loss
    }

    /// The images in step `step`'s batch: the batch size, or fewer at the end of an epoch.
    public var currentBatchCount: Int { sampler.batch(step).indices.count }

    /// The first half of a step: for the images at `positions` of step `step`'s batch (all of
    /// it by default), the forward pass, the loss and the backward pass, whose gradients add to
    /// the parameters' (weighted by the slice's share of the batch, so that the slices of a
    /// batch add up to the whole batch's gradient). Each position's image, flip, timestep and
    /// noise are those of the whole batch, so any split draws the same. Returns the slice's
    /// share of the loss; throws when it is not finite.
    @discardableResult
    public func accumulateGradients(positions: Range<Int>? = nil) throws -> Float {
        let (batchIndices, batchFlips) = sampler.batch(step)
        let batchSize = batchIndices.count
        let positions = positions ?? 0..<batchSize
        precondition(positions.lowerBound >= 0 && positions.upperBound <= batchSize && !positions.isEmpty,
                     "positions \(positions) of a batch of \(batchSize)")
        let indices = Array(batchIndices[positions]), flips = Array(batchFlips[positions])
        let first = step * options.batchSize + positions.lowerBound
        // The whole batch's mean is the slices' means weighted by their sizes.
        return try backward(images: indices, flips: flips, draws: first, weight: Float(indices.count) / Float(batchSize))
    }

    /// The forward pass, loss and backward pass of dataset images `indices` (mirrored where
    /// `flips` says), the i-th noised with draw `draws + i` of the run's timestep and noise
    /// streams (and of class dropout); the mean loss times `weight` is back-propagated and
    /// returned. Throws when it is not finite.
    func backward(images indices: [Int], flips: [Bool], draws first: Int, weight: Float) throws -> Float {
        let x0 = dataset.batch(indices, flips: flips)
        let n = indices.count
        let imageSize = x0.count / n
        let timestepWords = Philox(seed: SeedSequence.derive(options.seed, Stream.timesteps.rawValue))
        let timesteps = (0..<n).map { i in timestepDraw.timestep(timestepWords.block(UInt64(first + i))[0]) }
        let noise = Tensor.randn(x0.shape, seed: SeedSequence.derive(options.seed, Stream.noise.rawValue),
                                 offset: first * imageSize)
        let alphas = timesteps.map { schedule.alphasCumprod[$0] }
        // x_t = sqrt(a) x0 + sqrt(1 - a) eps (Ho et al. 2020, eq. 4).
        let noisy = perImageCombination(alphas.map { $0.squareRoot() }, x0, alphas.map { (1 - $0).squareRoot() }, noise)
        let target = prediction.target(x0: x0, noise: noise, alphasCumprod: alphas)
        let labels = classLabels(of: indices, firstPosition: first)

        let tape = Tape(watching: parameters)
        let output = denoiser(Variable(noisy), timesteps: timesteps.map(Float.init), conditioning: Conditioning(classLabels: labels))
        var loss = mseLoss(output, target: target, sampleWeights: options.minSNRGamma.map { minSNRWeights(alphas, gamma: $0) })
        if weight != 1 { loss = loss * weight }
        let value = loss.value.item
        guard value.isFinite else {
            throw TrainingError.nonFiniteLoss(step: step + 1, loss: value)
        }
        tape.backward(from: loss)
        return value
    }

    /// The second half of a step: clips the accumulated gradients' norm, steps AdamW under the
    /// step's learning rate, updates the EMA and counts the step. The gradients are cleared.
    public func applyGradients() {
        clipGradientNorm(parameters, maxNorm: options.gradientClip)
        stepOptimizer()
    }

    /// AdamW under the step's learning rate on the parameters' gradients, the EMA, and the
    /// step count.
    func stepOptimizer() {
        optimizer.learningRate = options.learningRate(atStep: step)
        optimizer.update()
        ema.update(parameters)
        step += 1
    }

    /// The labels of dataset images `indices` at batch positions `firstPosition...` of the run
    /// (nil for an unconditional model); with class dropout, each position's label becomes the
    /// "no class" row with that probability, drawn from (seed, position).
    func classLabels(of indices: [Int], firstPosition: Int) -> [Int]? {
        guard denoiser.classCount != nil, var labels = dataset.labels.map({ all in indices.map { all[$0] } }) else { return nil }
        if let nullLabel, let dropout = options.classDropout, dropout > 0 {
            let draws = Philox(seed: SeedSequence.derive(options.seed, Stream.classDropout.rawValue))
            for i in labels.indices where Float(draws.block(UInt64(firstPosition + i))[0] >> 8) / 16_777_216 < dropout {
                labels[i] = nullLabel
            }
        }
        return labels
    }

    /// Min-SNR-gamma weights (Hang et al. 2023) as diffusers' training scripts compute them:
    /// min(SNR, gamma), divided by SNR for epsilon and by SNR + 1 for v prediction.
    private func minSNRWeights(_ alphas: [Float], gamma: Float) -> [Float] {
        alphas.map { a in
            let snr = a / (1 - a)
            let clipped = min(snr, gamma)
            switch prediction {
            case .epsilon: return clipped / snr
            case .vPrediction: return clipped / (snr + 1)
            case .sample: return clipped
            }
        }
    }
}

public enum TrainingError: Error, CustomStringConvertible {
    case nonFiniteLoss(step: Int, loss: Float)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(step, loss):
            return "the loss became \(loss) at step \(step); training stopped (the last checkpoint is kept). Try a lower --learning-rate."
        }
    }
}
