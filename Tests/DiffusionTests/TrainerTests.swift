import Foundation
import Imaging
import NN
import XCTest
@testable import Diffusion

final class TrainerTests: XCTestCase {
    /// A folder of `count` random 8x8 gray images in two class folders.
    private func makeDataset() throws -> (ImageDataset, URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-trainer-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        for i in 0..<6 {
            let folder = root.appendingPathComponent(i % 2 == 0 ? "even" : "odd")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let pixels = Tensor.rand([64], seed: UInt64(i)).scalars.map { UInt8($0 * 255) }
            try PNG.write(Image(width: 8, height: 8, channels: 1, pixels: pixels), to: folder.appendingPathComponent("\(i).png"))
        }
        return (try ImageDataset.load(folder: root, resolution: 8, channels: 1), root)
    }

    private func tinyConfig() -> UNetConfig {
        var config = UNetConfig(sampleSize: 8, inChannels: 1, outChannels: 1, blockOutChannels: [8, 8], layersPerBlock: 1,
                                downBlockTypes: [.plain, .attention], upBlockTypes: [.attention, .plain])
        config.normNumGroups = 4
        config.attentionHeadDim = 4
        config.numClassEmbeds = 2
        return config
    }

    private func options(_ root: URL) -> TrainingOptions {
        var options = TrainingOptions(data: root.path, resolution: 8, channels: 1, steps: 6)
        options.batchSize = 4
        options.learningRate = 1e-3
        options.warmupSteps = 2
        options.randomFlip = true
        options.minSNRGamma = 5
        options.predictionType = "v_prediction"
        options.seed = 11
        return options
    }

    private func makeTrainer(_ dataset: ImageDataset, _ root: URL) throws -> Trainer {
        try Trainer(denoiser: try UNet2DModel(config: tinyConfig(), seed: 3), dataset: dataset, options: options(root))
    }

    func testResumedRunEndsWithTheSameWeightsBitForBit() throws {
        let (dataset, root) = try makeDataset()
        let straight = try makeTrainer(dataset, root)
        for _ in 0..<6 { try straight.trainStep() }

        let folder = ModelFolder(root.appendingPathComponent("run"))
        let first = try makeTrainer(dataset, root)
        for _ in 0..<3 { try first.trainStep() }
        try first.saveCheckpoint(to: folder, classNames: dataset.classNames)
        try first.trainStep()   // progress after the checkpoint, lost when the run is killed

        let (savedOptions, savedDenoiser) = try Trainer.savedRun(in: folder)
        XCTAssertEqual(savedOptions, options(root))
        XCTAssertEqual((savedDenoiser as? UNet2DModel)?.config, tinyConfig())
        let resumed = try Trainer(denoiser: savedDenoiser, dataset: dataset, options: savedOptions)
        try resumed.restore(from: folder)
        XCTAssertEqual(resumed.step, 3)
        for _ in 0..<3 { try resumed.trainStep() }

        for ((name, a), (_, b)) in zip(straight.denoiser.namedParameters, resumed.denoiser.namedParameters) {
            XCTAssertEqual(a.value.scalars, b.value.scalars, "\(name) differs after resuming")
        }
        XCTAssertEqual(straight.emaWeights.mapValues(\.scalars), resumed.emaWeights.mapValues(\.scalars))
    }

    /// A step taken as two slices of the batch (as two processes would take it) equals the
    /// step taken whole, up to the order of float additions: same images, flips, timesteps and
    /// noise at each position, gradients weighted by each slice's share.
    func testSlicesOfABatchAddUpToTheWholeStep() throws {
        let (dataset, root) = try makeDataset()
        let whole = try makeTrainer(dataset, root), sliced = try makeTrainer(dataset, root)
        for _ in 0..<3 {
            let loss = try whole.trainStep()
            let count = sliced.currentBatchCount
            let parts = try [0..<1, 1..<count].map { try sliced.accumulateGradients(positions: $0) }
            sliced.applyGradients()
            XCTAssertEqual(parts.reduce(0, +), loss, accuracy: 1e-6 * max(1, abs(loss)))
        }
        XCTAssertEqual(sliced.step, 3)
        // Attention's key bias is left out: its true gradient is 0 (adding q.b to every score of a
        // row leaves the softmax unchanged), so AdamW, which divides by the gradient's size, steps
        // on float noise there, and that noise differs with the order of additions.
        for ((name, a), (_, b)) in zip(whole.denoiser.namedParameters, sliced.denoiser.namedParameters) where !name.hasSuffix("to_k.bias") {
            let scale = a.value.scalars.map(abs).max() ?? 1
            for (x, y) in zip(a.value.scalars, b.value.scalars) { XCTAssertEqual(x, y, accuracy: 1e-5 * max(scale, 1e-3), name) }
        }
    }

    /// The loop: a stop request saves a checkpoint and stops; a resumed run finishes with the
    /// weights of a run never stopped, and its loss log has one row a step.
    func testTrainingRunStopsOnRequestAndResumesExactly() throws {
        let (dataset, root) = try makeDataset()
        let straight = try makeTrainer(dataset, root)
        for _ in 0..<6 { try straight.trainStep() }

        let folder = ModelFolder(root.appendingPathComponent("run"))
        try FileManager.default.createDirectory(at: folder.url, withIntermediateDirectories: true)
        let first = try TrainingRun(trainer: try makeTrainer(dataset, root), folder: folder, classNames: dataset.classNames, resume: false)
        var steps: [Int] = []
        let stopped = try first.run(stopRequested: { steps.count == 2 ? SIGTERM : nil }) { event in
            if case let .stepped(step, _, _) = event { steps.append(step) }
        }
        XCTAssertEqual(stopped, .stopped(signal: SIGTERM))
        XCTAssertEqual(steps, [1, 2])

        let second = try TrainingRun(trainer: try makeTrainer(dataset, root), folder: folder, classNames: dataset.classNames, resume: true)
        XCTAssertEqual(second.trainer.step, 2)
        XCTAssertEqual(try second.run(), .finished)
        XCTAssertTrue(second.isFinished)
        for ((name, a), (_, b)) in zip(straight.denoiser.namedParameters, second.trainer.denoiser.namedParameters) {
            XCTAssertEqual(a.value.scalars, b.value.scalars, name)
        }
        let rows = try String(contentsOf: folder.url.appendingPathComponent("loss.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.dropFirst().map { Int($0.split(separator: ",")[0])! }, Array(1...6))
    }

    func testCheckpointIsADiffusersFolderWithEMAWeights() throws {
        let (dataset, root) = try makeDataset()
        let trainer = try makeTrainer(dataset, root)
        for _ in 0..<2 { try trainer.trainStep() }
        let folder = ModelFolder(root.appendingPathComponent("run"))
        try trainer.saveCheckpoint(to: folder, classNames: dataset.classNames)
        let (unet, scheduler, classNames) = try folder.load()
        XCTAssertEqual(classNames, ["even", "odd"])
        XCTAssertEqual(scheduler.predictionType, "v_prediction")
        XCTAssertEqual(scheduler.timestepSpacing, "trailing", "samplers start at the last training timestep")
        XCTAssertEqual(unet.stateDict().mapValues(\.scalars), trainer.emaWeights.mapValues(\.scalars))
        XCTAssertNotEqual(unet.stateDict().mapValues(\.scalars), trainer.denoiser.stateDict().mapValues(\.scalars),
                          "the saved weights are the EMA's, not the raw weights")
    }

    func testLossFallsOnAFixedBatchAndNonFiniteLossStops() throws {
        let (dataset, root) = try makeDataset()
        var settings = options(root)
        settings.steps = 60
        settings.minSNRGamma = nil
        settings.predictionType = "epsilon"
        let trainer = try Trainer(denoiser: try UNet2DModel(config: tinyConfig(), seed: 3), dataset: dataset, options: settings)
        var losses: [Float] = []
        for _ in 0..<60 { losses.append(try trainer.trainStep()) }
        let early = losses[2..<12].reduce(0, +) / 10, late = losses[50..<60].reduce(0, +) / 10
        XCTAssertLessThan(late, early, "loss did not fall: \(early) -> \(late)")

        trainer.denoiser.parameters[0].value = Tensor(shape: trainer.denoiser.parameters[0].shape, repeating: .nan)
        XCTAssertThrowsError(try trainer.trainStep()) { error in
            XCTAssertTrue("\(error)".contains("the loss became nan at step 61"), "\(error)")
        }
        XCTAssertEqual(trainer.step, 60, "a failed step changes nothing")
    }

    func testLearningRateWarmsUpThenFollowsACosine() {
        var options = TrainingOptions(data: "", resolution: 8, channels: 1, steps: 110)
        options.learningRate = 1e-3
        options.warmupSteps = 10
        XCTAssertEqual(options.learningRate(atStep: 0), 0)
        XCTAssertEqual(options.learningRate(atStep: 5), 5e-4, accuracy: 1e-12)
        XCTAssertEqual(options.learningRate(atStep: 10), 1e-3, accuracy: 1e-12)
        XCTAssertEqual(options.learningRate(atStep: 60), 5e-4, accuracy: 1e-12)
        XCTAssertEqual(options.learningRate(atStep: 110), 0, accuracy: 1e-12)
    }

    func testPresetsRunAtAnyResolutionDivisibleByFour() throws {
        for (resolution, channels) in [(28, 1), (32, 3), (12, 1)] {
            let unet = try UNet2DModel(config: UNetPreset.tiny.config(resolution: resolution, channels: channels, classes: 3))
            let out = unet(Variable(.randn([2, channels, resolution, resolution], seed: 1)), timesteps: [1, 500], classLabels: [0, 2])
            XCTAssertEqual(out.shape, [2, channels, resolution, resolution])
        }
    }
}
