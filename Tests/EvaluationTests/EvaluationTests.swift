import Foundation
import Imaging
import NN
import XCTest
@testable import Evaluation

/// The evaluation pipeline around the metrics: extractors, the real-feature cache, reports.
final class EvaluationTests: XCTestCase {
    private func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// Two classes of 8x8 gray images: dark and bright, with noise.
    private func makeFolder(_ root: URL, count: Int = 40, seed: UInt64 = 0) throws -> ImageDataset {
        for i in 0..<count {
            let bright = i % 2 == 1
            let folder = root.appendingPathComponent(bright ? "bright" : "dark")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let noise = Tensor.rand([64], seed: seed &+ UInt64(i)).scalars
            let pixels = noise.map { UInt8((bright ? 150 : 20) + $0 * 80) }
            try PNG.write(Image(width: 8, height: 8, channels: 1, pixels: pixels), to: folder.appendingPathComponent("\(i).png"))
        }
        return try ImageDataset.load(folder: root, resolution: 8, channels: 1)
    }

    func testEvaluatorLearnsTwoClassesAndRoundTripsThroughItsFolder() throws {
        let dataset = try makeFolder(try temporaryFolder())
        var recipe = EvaluatorTraining()
        (recipe.epochs, recipe.batchSize, recipe.width) = (8, 16, 8)
        let network = try recipe.train(dataset)
        XCTAssertEqual(try EvaluatorTraining.accuracy(of: network, on: dataset), 1, "dark vs bright is easy")
        let folder = try temporaryFolder().appendingPathComponent("evaluator")
        try EvaluatorFolder.save(network, to: folder)
        let loaded = try EvaluatorFolder.load(from: folder)
        XCTAssertEqual(loaded.network.config, network.config)
        XCTAssertEqual(loaded.network.standardization, network.standardization)
        let images = dataset.batch([0, 1, 2])
        XCTAssertEqual(loaded.features(images).scalars, network.evaluationFeatures(images).scalars)
        XCTAssertEqual(loaded.features(images).shape, [3, 9 * 8], "the penultimate layer and the stem's statistics")
        let probabilities = try XCTUnwrap(loaded.probabilities(images))
        for row in 0..<3 { XCTAssertEqual(probabilities.scalars[(row * 2)..<(row * 2 + 2)].reduce(0, +), 1, accuracy: 1e-5) }

        // Over the training images, a standardized feature that varies has mean 0 and
        // standard deviation 1 (or less, where its scale is held at one gray level).
        let all = FeatureMatrix(network.evaluationFeatures(dataset.tensor()))
        for column in 0..<all.dimension {
            let values = (0..<all.count).map { all.row($0)[$0 * all.dimension + column] }
            let mean = values.reduce(0, +) / Double(values.count)
            let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
            XCTAssertEqual(mean, 0, accuracy: 1e-3, "feature \(column)")
            XCTAssertLessThanOrEqual(sd, 1 + 1e-3, "feature \(column)")
            if column < 32 { XCTAssertEqual(sd, 1, accuracy: 1e-3, "penultimate feature \(column)") }
        }
        // The raw readout: the penultimate layer first, then the stem convolution's mean,
        // standard deviation and percentiles, computed here directly for one image.
        let one = dataset.batch([0])
        let raw = network.rawReadout(one).scalars
        XCTAssertEqual(Array(raw[0..<32]), network.features(Variable(one)).value.scalars)
        let stem = network.stages[0].conv(Variable(one)).value.scalars
        let channel = stem[0..<64].map(Double.init), sortedChannel = channel.sorted()
        let mean = channel.reduce(0, +) / 64
        XCTAssertEqual(Double(raw[32]), mean, accuracy: 1e-5)
        XCTAssertEqual(Double(raw[40]), (channel.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 64).squareRoot(), accuracy: 1e-4)
        XCTAssertEqual(Double(raw[48]), sortedChannel[6], "10th percentile: rank 0.1 x 63, rounded down")
        XCTAssertEqual(Double(raw[56]), sortedChannel[31])
        XCTAssertEqual(Double(raw[64]), sortedChannel[56])
    }

    /// A stem statistic that never varies over the training images keeps a scale of one gray
    /// level through its filter, not 0: a uniform one-level lift moves it by at most one.
    func testConstantStatisticKeepsTheScaleOfOneLevel() throws {
        let root = try temporaryFolder()
        for i in 0..<4 {
            try PNG.write(Image(width: 8, height: 8, channels: 1, pixels: [UInt8](repeating: 0, count: 64)),
                          to: root.appendingPathComponent("\(i).png"))
        }
        let black = try ImageDataset.load(folder: root, resolution: 8, channels: 1)
        let network = EvaluatorNetwork(config: .init(inChannels: 1, resolution: 8, width: 8, classNames: ["a", "b"]), seed: 1)
        network.standardize(on: black)
        let filters = network.stages[0].conv.weight.value.scalars
        let oneLevel = filters[0..<9].map { Double(abs($0)) }.reduce(0, +) / 127.5
        let scale = try XCTUnwrap(network.standardization).scale
        XCTAssertEqual(Double(scale[32]), oneLevel, accuracy: 1e-6, "channel 0's mean: constant over black images")
        XCTAssertEqual(Double(scale[48]), oneLevel, accuracy: 1e-6, "channel 0's 10th percentile")
    }

    /// The floor: real rows held out as if generated against the rest, the mean of its draws,
    /// FID rescaled by 1/N to the report's sizes; none when too few rows would be held out.
    func testFloorHoldsOutRealRowsAndRescalesFID() throws {
        let real = MetricsFixtures.philoxFeatures(seed: 11, count: 100, dimension: 4)
        let floor = try XCTUnwrap(try Evaluator.floor(real: real, fakeCount: 20, draws: 3, seed: 5))
        XCTAssertEqual(floor.images, 20)
        XCTAssertEqual(floor.referenceImages, 80)
        var fids: [Double] = []
        for draw in 0..<3 {
            let order = seededPermutation(100, seed: 5 + UInt64(draw))
            fids.append(try Evaluator.compare(real: real.rows(Array(order[20...])), fake: real.rows(Array(order[0..<20])),
                                              extractor: "", seed: 5).fid)
        }
        XCTAssertEqual(floor.fid, fids.reduce(0, +) / 3, accuracy: 1e-12)
        XCTAssertEqual(floor.fidAtReportSizes, floor.fid * (1.0 / 100 + 1.0 / 20) / (1.0 / 80 + 1.0 / 20), accuracy: 1e-12)
        let halves = try XCTUnwrap(try Evaluator.floor(real: real, fakeCount: 500))
        XCTAssertEqual([halves.images, halves.referenceImages], [50, 50], "half the real set at most")
        XCTAssertNil(try Evaluator.floor(real: real, fakeCount: 5))
    }

    /// Architecture 1 (the first shipped evaluator) still reads the penultimate layer, without standardization.
    func testPenultimateArchitectureRoundTrips() throws {
        let dataset = try makeFolder(try temporaryFolder(), count: 8)
        var recipe = EvaluatorTraining()
        (recipe.epochs, recipe.batchSize, recipe.width) = (1, 8, 8)
        recipe.architecture = EvaluatorNetwork.Config.penultimateArchitecture
        let network = try recipe.train(dataset)
        XCTAssertNil(network.standardization)
        let folder = try temporaryFolder().appendingPathComponent("evaluator")
        try EvaluatorFolder.save(network, to: folder)
        let loaded = try EvaluatorFolder.load(from: folder)
        let images = dataset.batch([0, 1, 2])
        XCTAssertEqual(loaded.features(images).scalars, network.features(Variable(images)).value.scalars)
        XCTAssertEqual(loaded.features(images).shape, [3, 32])
    }

    func testCacheKeyFollowsContentNotLocation() throws {
        let first = try temporaryFolder(), second = try temporaryFolder()
        let a = try makeFolder(first), b = try makeFolder(second)
        let extractor = RandomNetworkExtractor(resolution: 8, channels: 1)
        XCTAssertEqual(try FeatureCache.key(for: a, extractor: extractor), try FeatureCache.key(for: b, extractor: extractor))
        XCTAssertNotEqual(try FeatureCache.key(for: a, extractor: extractor),
                          try FeatureCache.key(for: a, extractor: PixelExtractor(resolution: 8, channels: 1)))
        try PNG.write(Image(width: 8, height: 8, channels: 1, pixels: [UInt8](repeating: 9, count: 64)),
                      to: second.appendingPathComponent("dark/0.png"))
        let changed = try ImageDataset.load(folder: second, resolution: 8, channels: 1)
        XCTAssertNotEqual(try FeatureCache.key(for: a, extractor: extractor), try FeatureCache.key(for: changed, extractor: extractor))

        let cache = FeatureCache(folder: try temporaryFolder())
        let key = try FeatureCache.key(for: a, extractor: extractor)
        XCTAssertNil(cache.load(key))
        let features = Evaluator.features(of: a, extractor: extractor).features
        try cache.store(features, key: key, description: "test")
        XCTAssertEqual(cache.load(key)?.scalars, features.scalars)
    }

    func testSameSetScoresPerfectlyAndAShiftedSetDoesNot() throws {
        let dataset = try makeFolder(try temporaryFolder())
        let extractor = PixelExtractor(resolution: 8, channels: 1)
        let real = FeatureMatrix(Evaluator.features(of: dataset, extractor: extractor).features)
        let same = try Evaluator.compare(real: real, fake: real, extractor: extractor.name)
        XCTAssertEqual(same.fid, 0, accuracy: 1e-6)
        XCTAssertEqual(same.precision, 1)
        XCTAssertEqual(same.recall, 1)
        XCTAssertEqual(same.coverage, 1)
        let shifted = FeatureMatrix(count: real.count, dimension: real.dimension, values: real.values.map { $0 + 0.5 })
        let far = try Evaluator.compare(real: real, fake: shifted, extractor: extractor.name)
        XCTAssertGreaterThan(far.fid, 0.5 * 0.5 * 64 * 0.99, "FID sees the mean shift: |0.5|^2 x 64 dimensions")
        XCTAssertLessThan(far.precision, 0.5)
        XCTAssertThrowsError(try Evaluator.compare(real: real, fake: FeatureMatrix(count: 2, dimension: 3, values: [Double](repeating: 0, count: 6)),
                                                   extractor: "x"))
    }

    func testClassHistogramAndReportKeys() throws {
        let probabilities = Tensor(shape: [4, 2], [0.9, 0.1, 0.2, 0.8, 0.7, 0.3, 0.6, 0.4])
        let (histogram, entropy) = Evaluator.classHistogram(probabilities, classNames: ["a", "b"])
        XCTAssertEqual(histogram, ["a": 3, "b": 1])
        XCTAssertEqual(entropy, -(0.75 * log(0.75) + 0.25 * log(0.25)), accuracy: 1e-12)
        XCTAssertEqual(Evaluator.predictedClasses(probabilities), [0, 1, 0, 0])
        XCTAssertEqual(Evaluator.classAgreement(probabilities, labels: [0, 1, 1, 1]), 0.5)

        var result = EvaluationResult(features: "pixels", nReal: 10, nFake: 12, fid: 1, kid: 0.1, kidStd: 0.01,
                                      precision: 0.5, recall: 0.4, density: 0.9, coverage: 0.8)
        result.memorizationRate = 0
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(result)) as? [String: Any]
        XCTAssertEqual(Set(json?.keys.map { $0 } ?? []), ["features", "n_real", "n_fake", "fid", "kid", "kid_std", "precision",
                                                           "recall", "density", "coverage", "memorization_rate"])
    }

    func testInceptionScoreShufflesClassSortedRows() throws {
        // 100 confident rows, class by class as a class folder lists them: unshuffled, each
        // split holds one class and scores 1; shuffled, the score approaches the class count.
        var values: [Float] = []
        for row in 0..<100 { for c in 0..<10 { values.append(c == row / 10 ? 1 : 0) } }
        let probabilities = Tensor(shape: [100, 10], values)
        XCTAssertEqual(try InceptionScore.compute(probabilities: FeatureMatrix(probabilities)).mean, 1, accuracy: 1e-9)
        XCTAssertGreaterThan(try Evaluator.inceptionScore(probabilities).mean, 4)
    }
}
