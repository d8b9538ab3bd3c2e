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

    private func meanSquare(_ x: Tensor) -> Float {
        x.scalars.reduce(0) { $0 + $1 * $1 } / Float(x.count)
    }
}
