import Foundation
import Imaging
import NN

/// One training run of a denoiser on an image dataset (the recipe of diffusers' unconditional
/// training example): each step takes a shuffled batch, noises it at uniformly drawn timesteps,
/// regresses the denoiser's prediction onto the target of the prediction type (MSE, optionally
/// min-SNR weighted), clips the gradient norm, steps AdamW under a warm-up + cosine learning
/// rate, and updates the EMA of the weights.
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
    /// Steps completed.
    public internal(set) var step = 0

    /// Seeds of the run's random streams, derived from the run's seed.
    private enum Stream: UInt64 { case timesteps = 1, noise = 2, batches = 3 }

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
        config.clipSample = true
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
        let loss = try accumulateGradients()
        applyGradients()
        return loss
    }

    /// Runs step `step` as one of `reducer.size` processes: this process takes its contiguous
    /// slice of the batch, the gradients and losses of all slices are summed by `reducer`, and
    /// every process applies the same update. Returns the whole batch's loss; throws on every
    /// process when any slice's loss is not finite.
    @discardableResult
    public func trainStep(reducer: GradientReducer) throws -> Float {
        guard reducer.size > 1 else { return try trainStep() }
        var buffer = try sliceGradients(part: reducer.rank, of: reducer.size)
        try buffer.withUnsafeMutableBufferPointer { try reducer.sum($0) }
        return try apply(summed: buffer)
    }

    /// Runs step `step` in this process as `parts` processes would: each slice's gradients
    /// computed on their own, then summed in slice order. For 2 parts this is bit for bit what
    /// `mpirun -np 2` computes (a sum of two floats does not depend on their order); for more,
    /// MPI may sum in another order.
    @discardableResult
    public func trainStep(asSlices parts: Int) throws -> Float {
        precondition(parts >= 1, "parts must be positive")
        var total = try sliceGradients(part: 0, of: parts)
        for part in 1..<parts {
            let next = try sliceGradients(part: part, of: parts)
            for i in total.indices { total[i] += next[i] }
        }
        return try apply(summed: total)
    }

    /// Slice `part` of `parts` of step `step`'s batch (contiguous, sizes differing by at most
    /// one; empty when the batch has fewer images than parts): its gradients, every parameter's
    /// in order (zeros where none reached it), then its share of the loss, in one buffer; the
    /// parameters' gradients are left cleared. A non-finite loss is kept in the buffer, so that
    /// every process sees it after the sum.
    private func sliceGradients(part: Int, of parts: Int) throws -> [Float] {
        let count = currentBatchCount
        let slice = (part * count / parts)..<((part + 1) * count / parts)
        var loss: Float = 0
        do {
            if !slice.isEmpty { loss = try accumulateGradients(positions: slice) }
        } catch TrainingError.nonFiniteLoss(_, let value) {
            loss = value
        }
        var buffer = [Float](repeating: 0, count: parameters.reduce(0) { $0 + $1.value.count } + 1)
        var offset = 0
        for parameter in parameters {
            let size = parameter.value.count
            if let gradient = parameter.gradient { buffer.replaceSubrange(offset..<(offset + size), with: gradient.scalars) }
            parameter.gradient = nil
            offset += size
        }
        buffer[offset] = loss
        return buffer
    }

    /// Applies summed slice gradients (as `sliceGradients` lays them out) and returns the loss.
    private func apply(summed buffer: [Float]) throws -> Float {
        let loss = buffer[buffer.count - 1]
        guard loss.isFinite else { throw TrainingError.nonFiniteLoss(step: step + 1, loss: loss) }
        var offset = 0
        for parameter in parameters {
            let size = parameter.value.count
            parameter.gradient = Tensor(shape: parameter.value.shape, Array(buffer[offset..<(offset + size)]))
            offset += size
        }
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
        let x0 = dataset.batch(indices, flips: flips)
        let n = indices.count
        let imageSize = x0.count / n
        let first = step * options.batchSize + positions.lowerBound
        let timestepWords = Philox(seed: SeedSequence.derive(options.seed, Stream.timesteps.rawValue))
        let timesteps = (0..<n).map { i in
            Int((UInt64(timestepWords.block(UInt64(first + i))[0]) * UInt64(schedule.trainTimesteps)) >> 32)
        }
        let noise = Tensor.randn(x0.shape, seed: SeedSequence.derive(options.seed, Stream.noise.rawValue),
                                 offset: first * imageSize)
        let alphas = timesteps.map { schedule.alphasCumprod[$0] }
        // x_t = sqrt(a) x0 + sqrt(1 - a) eps (Ho et al. 2020, eq. 4).
        let noisy = perImageCombination(alphas.map { $0.squareRoot() }, x0, alphas.map { (1 - $0).squareRoot() }, noise)
        let target = prediction.target(x0: x0, noise: noise, alphasCumprod: alphas)
        let labels = denoiser.classCount == nil ? nil : dataset.labels.map { all in indices.map { all[$0] } }

        let tape = Tape(watching: parameters)
        let output = denoiser(Variable(noisy), timesteps: timesteps.map(Float.init), conditioning: Conditioning(classLabels: labels))
        var loss = mseLoss(output, target: target, sampleWeights: options.minSNRGamma.map { minSNRWeights(alphas, gamma: $0) })
        // The whole batch's mean is the slices' means weighted by their sizes.
        if n != batchSize { loss = loss * (Float(n) / Float(batchSize)) }
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
        optimizer.learningRate = options.learningRate(atStep: step)
        optimizer.update()
        ema.update(parameters)
        step += 1
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
