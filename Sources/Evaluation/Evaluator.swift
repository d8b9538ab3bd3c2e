import Foundation
import Imaging
import NN

/// Features of image sets and the metrics between them.
public enum Evaluator {
    /// Features (N, D) of every image of `dataset`, and class probabilities (N, K) when the
    /// extractor is a classifier; in batches, calling `progress` with the images done.
    public static func features(of dataset: ImageDataset, extractor: FeatureExtractor, batchSize: Int = 250,
                                progress: (Int) -> Void = { _ in }) -> (features: Tensor, probabilities: Tensor?) {
        features(count: dataset.count, extractor: extractor, batchSize: batchSize, progress: progress) { range in
            dataset.batch(Array(range))
        }
    }

    /// Features and class probabilities of 8-bit images held in memory (generated images, as
    /// they would be written to PNG), each fitted to the extractor's resolution first.
    public static func features(of images: [Image], extractor: FeatureExtractor, batchSize: Int = 250,
                                progress: (Int) -> Void = { _ in }) -> (features: Tensor, probabilities: Tensor?) {
        features(count: images.count, extractor: extractor, batchSize: batchSize, progress: progress) { range in
            Grid.batch(images[range].map { $0.fitted(to: extractor.resolution) })
        }
    }

    /// Features of `count` images taken `batchSize` at a time from `batch` (indices -> (n, C, H, W)).
    static func features(count: Int, extractor: FeatureExtractor, batchSize: Int = 250, progress: (Int) -> Void = { _ in },
                                 batch: (Range<Int>) -> Tensor) -> (features: Tensor, probabilities: Tensor?) {
        var features: [Float] = [], probabilities: [Float] = []
        var featureDimension = 0, classes = 0
        for start in stride(from: 0, to: count, by: batchSize) {
            let images = batch(start..<min(start + batchSize, count))
            let batchFeatures = extractor.features(images)
            featureDimension = batchFeatures.shape[1]
            features += batchFeatures.scalars
            if let p = extractor.probabilities(images) {
                classes = p.shape[1]
                probabilities += p.scalars
            }
            progress(min(start + batchSize, count))
        }
        return (Tensor(shape: [count, featureDimension], features),
                classes > 0 ? Tensor(shape: [count, classes], probabilities) : nil)
    }

    /// FID, KID, precision/recall and density/coverage of `fake` against `real` features.
    public static func compare(real: FeatureMatrix, fake: FeatureMatrix, extractor: String, seed: UInt64 = 0) throws -> EvaluationResult {
        guard real.dimension == fake.dimension else {
            throw EvaluationError("real features have \(real.dimension) dimensions, generated \(fake.dimension)")
        }
        guard real.count >= 2 && fake.count >= 2 else {
            throw EvaluationError("at least 2 real and 2 generated images are needed (got \(real.count) and \(fake.count))")
        }
        let fid = try FrechetDistance.compute(try FeatureStatistics(real), try FeatureStatistics(fake))
        let kid = try KernelDistance.compute(real: real, fake: fake, seed: seed)
        let manifold = try ManifoldMetrics.compute(real: real, fake: fake)
        return EvaluationResult(features: extractor, nReal: real.count, nFake: fake.count, fid: fid, kid: kid.kid,
                                kidStd: kid.std, precision: manifold.precision, recall: manifold.recall,
                                density: manifold.density, coverage: manifold.coverage)
    }

    /// The floor a generated set of `fakeCount` images is read against: min(`fakeCount`, N / 2)
    /// real rows held out as if generated and compared with the other real rows, as the report
    /// compares, averaged over `draws` seeded draws (FID also rescaled to N real against
    /// `fakeCount` generated). Nil when fewer than 6 rows would be held out (density and
    /// coverage look at 5 neighbours).
    public static func floor(real: FeatureMatrix, fakeCount: Int, draws: Int = 3, seed: UInt64 = 0) throws -> FeatureFloor? {
        let heldOut = min(fakeCount, real.count / 2)
        guard heldOut >= 6, draws >= 1 else { return nil }
        var runs: [EvaluationResult] = []
        for draw in 0..<draws {
            let order = seededPermutation(real.count, seed: seed &+ UInt64(draw))
            let held = real.rows(Array(order[0..<heldOut])), rest = real.rows(Array(order[heldOut...]))
            runs.append(try compare(real: rest, fake: held, extractor: "", seed: seed))
        }
        func mean(_ value: (EvaluationResult) -> Double) -> Double { runs.map(value).reduce(0, +) / Double(draws) }
        let fid = mean(\.fid), rest = real.count - heldOut
        let scaled = fid * (1 / Double(real.count) + 1 / Double(fakeCount)) / (1 / Double(rest) + 1 / Double(heldOut))
        return FeatureFloor(images: heldOut, referenceImages: rest, draws: draws, fid: fid, fidAtReportSizes: scaled,
                            kid: mean(\.kid), precision: mean(\.precision), recall: mean(\.recall),
                            density: mean(\.density), coverage: mean(\.coverage))
    }

    /// Adds the pixel statistics of `fake` against `real` (and their floor) to a result, with
    /// their warnings.
    public static func addPixelStatistics(to result: inout EvaluationResult, real: PixelSummary, fake: PixelSet,
                                          floor: PixelFloor?) {
        let pixels = PixelComparison(real: real, generated: PixelSummary(fake), floor: floor)
        result.pixels = pixels
        result.warnings = (result.warnings ?? []) + pixels.warnings
    }

    /// Adds the scores of a classifier extractor's class probabilities for the generated images
    /// (Inception-Score-style score, predicted-class histogram); nothing for other extractors.
    public static func addClassScores(to result: inout EvaluationResult, probabilities: Tensor?,
                                      extractor: FeatureExtractor, seed: UInt64) throws {
        guard let probabilities, let evaluator = extractor as? EvaluatorExtractor else { return }
        let score = try inceptionScore(probabilities, seed: seed)
        (result.inceptionScore, result.inceptionScoreStd) = (score.mean, score.std)
        let classes = classHistogram(probabilities, classNames: evaluator.network.config.classNames)
        (result.classHistogram, result.classEntropy) = (classes.histogram, classes.entropy)
    }

    /// The Inception-Score-style score of class probabilities (N, K), over rows shuffled with a
    /// seeded permutation first, as torch-fidelity shuffles them: the splits must each be a
    /// fair sample, and image folders list their images class by class.
    public static func inceptionScore(_ probabilities: Tensor, seed: UInt64 = 0) throws -> (mean: Double, std: Double) {
        let (n, k) = (probabilities.shape[0], probabilities.shape[1])
        let order = seededPermutation(n, seed: seed)
        let values = probabilities.scalars
        let shuffled = order.flatMap { row in values[(row * k)..<((row + 1) * k)].map(Double.init) }
        return try InceptionScore.compute(probabilities: FeatureMatrix(count: n, dimension: k, values: shuffled))
    }

    /// The predicted-class histogram of `probabilities` (N, K) and its entropy in nats.
    public static func classHistogram(_ probabilities: Tensor, classNames: [String]) -> (histogram: [String: Int], entropy: Double) {
        let (n, k) = (probabilities.shape[0], probabilities.shape[1])
        var counts = [Int](repeating: 0, count: k)
        for predicted in predictedClasses(probabilities) { counts[predicted] += 1 }
        let entropy = counts.reduce(0.0) { total, c in
            guard c > 0 else { return total }
            let q = Double(c) / Double(n)
            return total - q * Foundation.log(q)
        }
        let names = classNames.count == k ? classNames : (0..<k).map(String.init)
        return (Dictionary(uniqueKeysWithValues: zip(names, counts)), entropy)
    }

    /// The most probable class of each row of (n, k) class probabilities (the first on a tie).
    public static func predictedClasses(_ probabilities: Tensor) -> [Int] {
        let (n, k) = (probabilities.shape[0], probabilities.shape[1])
        return probabilities.withUnsafeBufferPointer { p in
            (0..<n).map { row in
                let scores = p[(row * k)..<((row + 1) * k)]
                return scores.firstIndex(of: scores.max()!)! - row * k
            }
        }
    }

    /// The share of images whose most probable class is their label (class agreement).
    public static func classAgreement(_ probabilities: Tensor, labels: [Int]) -> Double {
        precondition(labels.count == probabilities.shape[0], "\(labels.count) labels for \(probabilities.shape[0]) images")
        let agreeing = zip(predictedClasses(probabilities), labels).filter { $0 == $1 }.count
        return Double(agreeing) / Double(max(1, labels.count))
    }
}

/// A problem with what is being evaluated (mismatched features, too few images).
public struct EvaluationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
