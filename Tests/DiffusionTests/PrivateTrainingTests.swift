import Foundation
import Imaging
import NN
import XCTest
@testable import Diffusion

/// DP-SGD: per-image gradients, clipping, Poisson batches, the spent privacy, and resuming.
final class PrivateTrainingTests: XCTestCase {
    /// A folder of 8 random 8x8 gray images in two class folders.
    private func makeDataset() throws -> ImageDataset {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-dp-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        for i in 0..<8 {
            let folder = root.appendingPathComponent(i % 2 == 0 ? "even" : "odd")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let pixels = Tensor.rand([64], seed: UInt64(40 + i)).scalars.map { UInt8($0 * 255) }
            try PNG.write(Image(width: 8, height: 8, channels: 1, pixels: pixels), to: folder.appendingPathComponent("\(i).png"))
        }
        return try ImageDataset.load(folder: root, resolution: 8, channels: 1)
    }

    /// Group norm, attention and a class embedding: every layer kind whose per-image gradient
    /// must not mix images.
    private func makeTrainer(_ dataset: ImageDataset, privacy: PrivacyOptions, draws: Int = 1) throws -> Trainer {
        var config = UNetConfig(sampleSize: 8, inChannels: 1, outChannels: 1, blockOutChannels: [8, 8], layersPerBlock: 1,
                                downBlockTypes: [.plain, .attention], upBlockTypes: [.attention, .plain])
        (config.normNumGroups, config.attentionHeadDim, config.numClassEmbeds) = (4, 4, 2)
        var options = TrainingOptions(data: dataset.root.path, resolution: 8, channels: 1, steps: 4)
        (options.batchSize, options.learningRate, options.warmupSteps, options.seed) = (4, 1e-3, 1, 7)
        options.privacy = privacy
        options.privacy?.noiseDraws = draws
        return try Trainer(denoiser: try UNet2DModel(config: config, seed: 3), dataset: dataset, options: options)
    }

    private func privacy(clip: Float = 1e9, sigma: Double = 0) -> PrivacyOptions {
        PrivacyOptions(maxGradNorm: clip, noiseMultiplier: sigma, delta: 1e-3, noiseSeed: 99)
    }

    private func gradients(_ trainer: Trainer) -> [Float] {
        defer { trainer.parameters.forEach { $0.gradient = nil } }
        return trainer.parameters.flatMap { $0.gradient?.scalars ?? [Float](repeating: 0, count: $0.value.count) }
    }

    private func norm(_ values: [Float]) -> Double { values.map { Double($0) * Double($0) }.reduce(0, +).squareRoot() }

    /// Unclipped, the per-image gradients (one backward pass each) add up to the gradient of
    /// one batched backward pass over the same images, timesteps and noise: no layer lets one
    /// image's gradient depend on another's.
    func testPerImageGradientsAddUpToTheBatchedGradient() throws {
        let trainer = try makeTrainer(try makeDataset(), privacy: privacy())
        // At step 0 with one draw, image i uses draw i: images 0 ..< 5 use draws 0 ..< 5 as a batch would.
        let images = Array(0..<5)
        let (sum, loss) = try trainer.clippedGradientSum(of: images, privacy: privacy())
        XCTAssertEqual(gradients(trainer), [Float](repeating: 0, count: sum.map(\.count).reduce(0, +)), "gradients left cleared")
        let batchedLoss = try trainer.backward(images: images, flips: [Bool](repeating: false, count: 5), draws: 0, weight: 5)
        let batched = gradients(trainer), perImage = sum.flatMap { $0 }
        XCTAssertEqual(Double(loss) * 5, Double(batchedLoss), accuracy: 1e-5 * Double(batchedLoss))
        var worst: Float = 0
        for (a, b) in zip(perImage, batched) { worst = max(worst, abs(a - b)) }
        XCTAssertLessThan(Double(worst), 1e-4 * norm(batched) / Double(batched.count).squareRoot() + 1e-6)
        XCTAssertGreaterThan(norm(batched), 0)
    }

    /// Clipped, each image contributes a gradient of norm C at most (exactly C when its own is
    /// larger), and the sum of a set is the sum of its images' clipped gradients.
    func testEachImageIsClippedToTheNorm() throws {
        let clip: Float = 1e-3
        let trainer = try makeTrainer(try makeDataset(), privacy: privacy(clip: clip), draws: 2)
        var alone: [[Float]] = []
        for image in [1, 4, 6] {
            let (sum, _) = try trainer.clippedGradientSum(of: [image], privacy: trainer.options.privacy!)
            let flat = sum.flatMap { $0 }
            XCTAssertEqual(norm(flat), Double(clip), accuracy: 1e-6, "image \(image)")
            alone.append(flat)
        }
        let together = try trainer.clippedGradientSum(of: [1, 4, 6], privacy: trainer.options.privacy!).sum.flatMap { $0 }
        for i in together.indices { XCTAssertEqual(together[i], alone[0][i] + alone[1][i] + alone[2][i], accuracy: 1e-9) }
    }

    /// Poisson batches: a function of (seed, step), of varying size, each image in about
    /// sampleRate of them.
    func testPoissonBatchesAreSeededAndHaveTheSampleRate() throws {
        let trainer = try makeTrainer(try makeDataset(), privacy: privacy())
        XCTAssertEqual(trainer.sampleRate, 0.5)
        let batches = (0..<400).map { trainer.poissonBatch(step: $0) }
        XCTAssertEqual(batches[3], trainer.poissonBatch(step: 3))
        XCTAssertGreaterThan(Set(batches.map(\.count)).count, 3, "sizes vary")
        let mean = Double(batches.map(\.count).reduce(0, +)) / 400
        XCTAssertEqual(mean, 4, accuracy: 0.25, "8 images x 0.5")
    }

    /// A noisy run resumed from a checkpoint ends with the same weights, and the spent epsilon
    /// is the accountant's for the steps taken.
    func testNoisyRunResumesExactlyAndAccountsItsSteps() throws {
        let dataset = try makeDataset()
        let noisy = privacy(clip: 0.5, sigma: 1.1)
        let straight = try makeTrainer(dataset, privacy: noisy)
        for _ in 0..<4 { try straight.trainStep() }

        let folder = ModelFolder(FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-dp-run-\(UUID().uuidString)"))
        addTeardownBlock { try? FileManager.default.removeItem(at: folder.url) }
        let first = try makeTrainer(dataset, privacy: noisy)
        for _ in 0..<2 { try first.trainStep() }
        try first.saveCheckpoint(to: folder, classNames: dataset.classNames)
        let record = try JSONDecoder().decode(PrivacyRecord.self, from: Data(contentsOf: folder.privacyFile))
        XCTAssertEqual(record.steps, 2)
        XCTAssertEqual(record.accountant, "rdp")
        XCTAssertEqual(record.epsilon, RDPAccountant(noiseMultiplier: 1.1, sampleRate: 0.5).epsilon(steps: 2, delta: 1e-3).epsilon)

        let (options, denoiser) = try Trainer.savedRun(in: folder)
        XCTAssertEqual(options.privacy, noisy)
        let resumed = try Trainer(denoiser: denoiser, dataset: dataset, options: options)
        try resumed.restore(from: folder)
        for _ in 0..<2 { try resumed.trainStep() }
        XCTAssertEqual(resumed.parameters.map(\.value.scalars), straight.parameters.map(\.value.scalars))
        XCTAssertGreaterThan(straight.privacySpent!.epsilon, record.epsilon)

        let quiet = try makeTrainer(dataset, privacy: privacy(clip: 0.5, sigma: 0))
        for _ in 0..<4 { try quiet.trainStep() }
        XCTAssertNotEqual(quiet.parameters.map(\.value.scalars), straight.parameters.map(\.value.scalars), "the noise changes the weights")
    }
}
