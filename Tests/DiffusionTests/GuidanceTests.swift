import Foundation
import Imaging
import NN
import XCTest
@testable import Diffusion

/// Classifier-free guidance: class dropout in training, the guided prediction in sampling.
final class GuidanceTests: XCTestCase {
    /// A 2-class 8x8 model with a third, "no class" row.
    private func model() throws -> UNet2DModel {
        var config = UNetConfig(sampleSize: 8, inChannels: 1, outChannels: 1, blockOutChannels: [8, 8], layersPerBlock: 1,
                                downBlockTypes: [.plain, .plain], upBlockTypes: [.plain, .plain])
        config.normNumGroups = 4
        config.numClassEmbeds = 3
        return try UNet2DModel(config: config, seed: 4)
    }

    func testClassDropoutReplacesLabelsAtItsRate() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-guidance-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        for (i, name) in ["a", "b"].enumerated() {
            let folder = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try PNG.write(Image(width: 8, height: 8, channels: 1, pixels: [UInt8](repeating: UInt8(50 * i), count: 64)),
                          to: folder.appendingPathComponent("0.png"))
        }
        let dataset = try ImageDataset.load(folder: root, resolution: 8, channels: 1)
        var options = TrainingOptions(data: root.path, resolution: 8, channels: 1, steps: 1)
        options.classDropout = 0.25
        let trainer = try Trainer(denoiser: try model(), dataset: dataset, options: options)
        XCTAssertEqual(trainer.nullLabel, 2)
        let indices = (0..<4000).map { $0 % 2 }
        let labels = try XCTUnwrap(trainer.classLabels(of: indices, firstPosition: 0))
        let dropped = labels.filter { $0 == 2 }.count
        XCTAssertEqual(Double(dropped) / 4000, 0.25, accuracy: 0.02)
        for (label, index) in zip(labels, indices) where label != 2 { XCTAssertEqual(label, index) }
        XCTAssertEqual(trainer.classLabels(of: indices, firstPosition: 0), labels, "drawn from (seed, position)")

        options.classDropout = nil
        let plain = try Trainer(denoiser: try model(), dataset: dataset, options: options)
        XCTAssertEqual(plain.classLabels(of: indices, firstPosition: 0), indices)
    }

    /// The guided prediction is uncond + W (cond - uncond), bit for bit, with cond and uncond
    /// run on their own; W = 1 is the plain conditional prediction.
    func testGuidedPredictionCombinesConditionalAndUnconditional() throws {
        let unet = try model()
        var pipeline = SamplingPipeline(denoiser: unet) { try SchedulerKind.ddim.make(config: SchedulerConfig()) }
        let x = Tensor.randn([3, 1, 8, 8], seed: 2)
        let labels = [0, 1, 0]
        let plain = pipeline.predict(x, timestep: 400, labels: labels)
        let cond = unet(Variable(x), timesteps: [400, 400, 400], classLabels: labels).value.scalars
        let uncond = unet(Variable(x), timesteps: [400, 400, 400], classLabels: [2, 2, 2]).value.scalars
        XCTAssertEqual(plain.scalars, cond)
        pipeline.guidance = (1, 2)
        XCTAssertEqual(pipeline.predict(x, timestep: 400, labels: labels).scalars, cond)
        pipeline.guidance = (3, 2)
        let guided = pipeline.predict(x, timestep: 400, labels: labels).scalars
        XCTAssertEqual(guided, zip(cond, uncond).map { c, u in u + 3 * (c - u) })
        XCTAssertNotEqual(guided, cond)

        // Every sampler runs with it.
        for kind in [SchedulerKind.ddim, .dpmSolver2M, .euler] {
            let guidedPipeline = { var p = SamplingPipeline(denoiser: unet) { try kind.make(config: SchedulerConfig()) }; p.guidance = (2, 2); return p }()
            let images = try guidedPipeline.generate(0..<2, steps: 3, seed: 1, labels: [0, 1])
            XCTAssertTrue(images.scalars.allSatisfy(\.isFinite), "\(kind)")
        }
    }
}
