import Diffusion
import Evaluation
import Foundation
import Imaging
import NN
import XCTest

/// The Fashion-MNIST model in Models/, on ten real test images it never trained on (one a class,
/// Tests/Fixtures/make_fashion_mnist_fixtures.py): one model call each, as a debug build runs the
/// U-Net slowly, so the check is denoising rather than sampling.
final class ShippedModelTests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL

    func testFashionMNISTModelDenoisesUnseenImagesOfEachClass() throws {
        let models = root.appendingPathComponent("Models")
        let (denoiser, schedulerConfig, classNames) = try ModelFolder(models.appendingPathComponent("fashion-mnist")).load()
        let evaluator = try EvaluatorFolder.load(from: models.appendingPathComponent("fashion-mnist-evaluator"))
        XCTAssertEqual(classNames, evaluator.network.config.classNames)
        XCTAssertEqual(schedulerConfig.predictionType, "v_prediction")

        let real = try ImageDataset.load(folder: root.appendingPathComponent("Tests/Fixtures/fashion-mnist/test-10"), resolution: 28, channels: 1)
        XCTAssertEqual(real.classNames, classNames)
        let labels = try XCTUnwrap(real.labels)
        let x0 = real.batch(Array(0..<real.count))

        // Halfway along the cosine schedule, where about half the signal is left.
        let timestep = 500
        let a = try schedulerConfig.noiseSchedule().alphasCumprod[timestep]
        let noise = Tensor.randn(x0.shape, seed: 7)
        let noisy = x0 * a.squareRoot() + noise * (1 - a).squareRoot()
        let timesteps = [Float](repeating: Float(timestep), count: labels.count)
        let v = denoiser(Variable(noisy), timesteps: timesteps, conditioning: Conditioning(classLabels: labels)).value
        let x0Predicted = noisy * a.squareRoot() - v * (1 - a).squareRoot()   // x0 from v (Salimans & Ho 2022)

        // An untrained model (v = 0) would leave the image at sqrt(a) x_t.
        let error = meanSquare(x0Predicted - x0), untrained = meanSquare(noisy * a.squareRoot() - x0)
        let images = Grid.images(fromBatch: x0Predicted)
        let probabilities = try XCTUnwrap(Evaluator.features(of: images, extractor: evaluator).probabilities)
        let scores = probabilities.scalars
        let predicted = labels.indices.map { row in (0..<10).max { scores[row * 10 + $0] < scores[row * 10 + $1] }! }
        let recognised = zip(predicted, labels).filter { $0 == $1 }.count
        print("shipped model at t = \(timestep): x0 mean square error \(error) (untrained \(untrained)), \(recognised) of 10 recognised")
        XCTAssertLessThan(error, untrained / 4)
        XCTAssertGreaterThanOrEqual(recognised, 9, "evaluator's classes \(predicted) for \(labels)")
    }

    /// The shipped model samples: one image a class, DPM-Solver++ (2M) in 10 steps, guided at
    /// the card's scale through its "no class" row. The evaluator must see the asked class in
    /// at least 8 of 10, and the backgrounds must be black: at least a fifth of the pixels
    /// exactly 0 (real images: half; the first shipped model sampled with clipping gave 2%).
    func testFashionMNISTModelSamplesEachClassWithGuidance() throws {
        let models = root.appendingPathComponent("Models")
        let (denoiser, schedulerConfig, classNames) = try ModelFolder(models.appendingPathComponent("fashion-mnist")).load()
        let classes = try XCTUnwrap(denoiser.classes(named: classNames))
        let nullLabel = try XCTUnwrap(classes.nullLabel, "the shipped model has no \"no class\" row: guidance cannot run")
        var pipeline = SamplingPipeline(denoiser: denoiser) { try SchedulerKind.dpmSolver2M.make(config: schedulerConfig) }
        pipeline.guidance = (2, nullLabel)
        let labels = Array(0..<classes.count)
        let samples = try pipeline.generate(0..<labels.count, steps: 10, seed: 3, labels: labels)
        let images = Grid.images(fromBatch: samples)

        let evaluator = try EvaluatorFolder.load(from: models.appendingPathComponent("fashion-mnist-evaluator-v2"))
        XCTAssertEqual(classNames, evaluator.network.config.classNames)
        let scores = try XCTUnwrap(Evaluator.features(of: images, extractor: evaluator).probabilities).scalars
        let k = classes.count
        let predicted = labels.indices.map { row in (0..<k).max { scores[row * k + $0] < scores[row * k + $1] }! }
        let recognised = zip(predicted, labels).filter { $0 == $1 }.count
        let black = Double(images.map { $0.pixels.filter { $0 == 0 }.count }.reduce(0, +)) / Double(images.count * 28 * 28)
        print("shipped model, DPM-Solver++ 10 steps, W = 2: \(recognised) of 10 recognised, \(black) of pixels black")
        XCTAssertGreaterThanOrEqual(recognised, 8, "evaluator's classes \(predicted) for \(labels)")
        XCTAssertGreaterThanOrEqual(black, 0.2)
    }

    private func meanSquare(_ x: Tensor) -> Float {
        x.scalars.reduce(0) { $0 + $1 * $1 } / Float(x.count)
    }
}
