import NN

/// Generates images with a U-Net and a scheduler, in batches, reproducibly: image i of a run
/// with seed s starts from elements i*CHW ..< (i+1)*CHW of s's noise stream, and the noise a
/// scheduler adds at step k comes from the same place of the stream of seed derive(s, k + 1).
/// So image i depends only on (seed, i), whatever the batch size or the number of images.
public struct SamplingPipeline {
    public let unet: UNet2DModel
    /// Makes a fresh scheduler for a batch (schedulers keep state within a run).
    public let makeScheduler: () throws -> Scheduler

    public init(unet: UNet2DModel, makeScheduler: @escaping () throws -> Scheduler) {
        self.unet = unet
        self.makeScheduler = makeScheduler
    }

    /// The model's input shape for one image: (C, H, W).
    public var imageShape: [Int] {
        [unet.config.inChannels, unet.config.sampleSize, unet.config.sampleSize]
    }

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
        let scheduler = try makeScheduler()
        try scheduler.setTimesteps(steps)
        let start = range.lowerBound * imageSize
        var x = (latents ?? Tensor.randn(shape, seed: seed, offset: start)).reshaped(shape) * scheduler.initNoiseSigma
        for (k, t) in scheduler.timesteps.enumerated() {
            let input = scheduler.scaleModelInput(x, timestep: t)
            let output = unet(Variable(input), timesteps: [Float](repeating: t, count: range.count), classLabels: labels).value
            x = scheduler.step(modelOutput: output, timestep: t, sample: x) {
                Tensor.randn(shape, seed: SeedSequence.derive(seed, UInt64(k + 1)), offset: start)
            }
            afterStep(k + 1)
        }
        return x
    }
}
