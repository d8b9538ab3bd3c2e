import Foundation
import Imaging
import NN

/// Sample grids written during training, from the EMA weights, with DDIM at 50 steps.
enum TrainingSamples {
    static let count = 16
    static let steps = 50

    /// Writes samples/step-NNNNNN.png under `folder` and returns its URL. Class-conditional
    /// models cycle through the classes.
    static func write(trainer: Trainer, folder: URL, classes: Int) throws -> URL {
        let ema = try trainer.denoiser.sameArchitecture(seed: 0)
        try ema.load(stateDict: trainer.emaWeights)
        let schedulerConfig = trainer.schedulerConfig
        let pipeline = SamplingPipeline(denoiser: ema) { try SchedulerKind.ddim.make(config: schedulerConfig) }
        let labels = classes > 0 ? (0..<count).map { $0 % classes } : nil
        let images = try pipeline.generate(0..<count, steps: steps, seed: trainer.options.seed, labels: labels)
        let samples = folder.appendingPathComponent("samples")
        try FileManager.default.createDirectory(at: samples, withIntermediateDirectories: true)
        let url = samples.appendingPathComponent(String(format: "step-%06d.png", trainer.step))
        try PNG.write(Grid.make(Grid.images(fromBatch: images), columns: classes > 0 ? min(classes, 8) : 4), to: url)
        return url
    }
}
