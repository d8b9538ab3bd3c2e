import NN

/// Generates images with a denoiser and a scheduler, in batches, reproducibly: image i of a run
/// with seed s starts from elements i*CHW ..< (i+1)*CHW of s's noise stream, and the noise a
/// scheduler adds at step k comes from the same place of the stream of seed derive(s, k + 1).
/// So image i depends only on (seed, i), whatever the batch size or the number of images.
public struct SamplingPipeline {
    public let denoiser: any Denoiser
    /// Makes a fresh scheduler for a batch (schedulers keep state within a run).
    public let makeScheduler: () throws -> Scheduler
    /// Classifier-free guidance (Ho and Salimans 2022): with labels, each step also predicts
    /// with the "no class" label, in the same batch, and uses uncond + scale (cond - uncond).
    /// Nil, or a scale of 1, for plain conditional sampling.
    public var guidance: (scale: Float, nullLabel: Int)?

    public init(denoiser: any Denoiser, makeScheduler: @escaping () throws -> Scheduler) {
        self.denoiser = denoiser
        self.makeScheduler = makeScheduler
    }

    /// The model's input shape for one image: (C, H, W).
    public var imageShape: [Int] { denoiser.sampleShape }

    /// Images `range` of the run, in model space (N, C, H, W), unclamped.
    ///
    /// - Parameters:
    ///   - latents: the starting noise for the images of `range` (standard normal; scaled by
    ///     the scheduler's init noise sigma), instead of the seed's stream.
    ///   - labels: the class of each image of `range` for a class-conditional model.
    ///   - afterStep: called after each model evaluation with the evaluations done in this batch.
    public func generate(_ range: Range<Int>, steps: Int, seed: UInt64, latents: Tensor? = nil,
                         labels: [Int]? = nil, afterStep: (Int) -> Void = { _ in }) throws -> Tensor {
        let shape = [range.count] + imageShape
        let imageSize = imageShape.reduce(1, *)
        let scheduler = try preparedScheduler(steps: steps)
        let start = range.lowerBound * imageSize
        var x = (latents ?? Tensor.randn(shape, seed: seed, offset: start)).reshaped(shape) * scheduler.initNoiseSigma
        for (k, t) in scheduler.timesteps.enumerated() {
            let input = scheduler.scaleModelInput(x, timestep: t)
            let output = predict(input, timestep: t, labels: labels)
            x = scheduler.step(modelOutput: output, timestep: t, sample: x) {
                Tensor.randn(shape, seed: SeedSequence.derive(seed, UInt64(k + 1)), offset: start)
            }
            guard x.withUnsafeBufferPointer({ $0.allSatisfy(\.isFinite) }) else {
                throw SamplingError(reason: "the samples are not finite after step \(k + 1) of \(scheduler.timesteps.count) "
                                    + "(timestep \(t)): the model's weights or config, the sampler's settings or the starting noise give "
                                    + "values that cannot be drawn")
            }
            afterStep(k + 1)
        }
        return x
    }

    /// The denoiser's prediction for a batch at timestep `t`, guided when `guidance` says so:
    /// the batch and its copy under the "no class" label go through one forward pass (each
    /// image's result does not depend on its batch), then uncond + scale (cond - uncond).
    func predict(_ input: Tensor, timestep t: Float, labels: [Int]?) -> Tensor {
        let n = input.shape[0]
        guard let guidance, guidance.scale != 1, let labels else {
            return denoiser(Variable(input), timesteps: [Float](repeating: t, count: n), conditioning: Conditioning(classLabels: labels)).value
        }
        let doubled = Tensor(shape: [2 * n] + Array(input.shape.dropFirst()), input.scalars + input.scalars)
        let withNull = Conditioning(classLabels: labels + [Int](repeating: guidance.nullLabel, count: n))
        let both: [Float] = denoiser(Variable(doubled), timesteps: [Float](repeating: t, count: 2 * n), conditioning: withNull).value.scalars
        let half = both.count / 2, scale = guidance.scale
        var guided = [Float](repeating: 0, count: half)
        for i in 0..<half {
            let (conditional, unconditional) = (both[i], both[half + i])
            guided[i] = unconditional + scale * (conditional - unconditional)
        }
        return Tensor(shape: input.shape, guided)
    }

    /// Model evaluations per image of a run of `steps` steps (the scheduler's timesteps: Heun
    /// and PNDM evaluate more than once a step); throws for a count the scheduler cannot do.
    public func evaluations(steps: Int) throws -> Int {
        try preparedScheduler(steps: steps).timesteps.count
    }

    /// The scheduler's caution for a run of `steps` steps (`Scheduler.caution`), or nil.
    public func caution(steps: Int) throws -> String? {
        try preparedScheduler(steps: steps).caution
    }

    /// A new scheduler set to a run of `steps` steps; throws for a count it cannot do.
    private func preparedScheduler(steps: Int) throws -> Scheduler {
        let scheduler = try makeScheduler()
        try scheduler.setTimesteps(steps)
        return scheduler
    }

    /// Images 0 ..< count of the run, `batchSize` at a time, as one batch (count, C, H, W).
    public func generate(count: Int, batchSize: Int, steps: Int, seed: UInt64, latents: Tensor? = nil,
                         labels: [Int]? = nil, progress: (Int) -> Void = { _ in }) throws -> Tensor {
        try generate(images: 0..<count, batchSize: batchSize, steps: steps, seed: seed, latents: latents, labels: labels,
                     progress: progress)
    }

    /// Images `images` of the run (a shard of it: the same images a run of all of them makes,
    /// bit for bit), `batchSize` at a time, as one batch (images.count, C, H, W). `latents`
    /// (images.count, C, H, W) and `labels` (images.count) cover those images; `progress` gets
    /// the image-evaluations done so far, of images.count * evaluations(steps:).
    public func generate(images: Range<Int>, batchSize: Int, steps: Int, seed: UInt64, latents: Tensor? = nil,
                         labels: [Int]? = nil, progress: (Int) -> Void = { _ in }) throws -> Tensor {
        precondition(!images.isEmpty && images.lowerBound >= 0 && batchSize >= 1, "images \(images), batch size \(batchSize)")
        let perImage = imageShape.reduce(1, *)
        var values: [Float] = []
        values.reserveCapacity(images.count * perImage)
        var done = 0
        for first in stride(from: images.lowerBound, to: images.upperBound, by: batchSize) {
            let range = first..<min(first + batchSize, images.upperBound)
            let local = (range.lowerBound - images.lowerBound)..<(range.upperBound - images.lowerBound)
            let start = latents.map { batch in
                Tensor(shape: [range.count] + imageShape, Array(batch.scalars[(local.lowerBound * perImage)..<(local.upperBound * perImage)]))
            }
            let batch = try generate(range, steps: steps, seed: seed, latents: start, labels: labels.map { Array($0[local]) }) { _ in
                done += range.count
                progress(done)
            }
            values += batch.scalars
        }
        return Tensor(shape: [images.count] + imageShape, values)
    }
}

/// Why sampling stopped.
public struct SamplingError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
