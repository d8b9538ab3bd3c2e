import Foundation
import Imaging
import NN

/// Does a synthetic set help? The classifier-accuracy test of Ravuri and Vinyals (2019): one
/// fixed small classifier (the evaluator network and recipe, `EvaluatorTraining`) trained on
/// real training images (TRTR), on the synthetic set alone (TSTR), on both (augmented), and on a
/// small real subset alone and with the synthetic set (low data), each tested on real test
/// images, over several seeds.
public enum TrainOnSynthetic {
    /// Accuracy over seeds.
    public struct Score: Codable, Equatable, Sendable {
        public var mean: Double
        public var std: Double
        /// Each seed's accuracy.
        public var runs: [Double]
        /// Each class's accuracy, averaged over seeds, in class order.
        public var perClass: [Double]

        enum CodingKeys: String, CodingKey { case mean, std, runs, perClass = "per_class" }
    }

    /// What `diffuse tstr` reports.
    public struct Report: Codable, Equatable, Sendable {
        public var classNames: [String]
        public var trainImages: Int
        public var syntheticImages: Int
        public var testImages: Int
        public var epochs: Int
        public var width: Int
        public var seeds: [UInt64]
        public var trtr: Score
        public var tstr: Score
        public var augmented: Score
        /// The fraction of the real training images in the low-data runs, and the runs.
        public var lowDataFraction: Double
        public var lowDataReal: Score
        public var lowDataAugmented: Score
        /// TSTR's mean accuracy over TRTR's.
        public var tstrOverTrtr: Double
        /// TSTR's confusion matrix on the test images for the first seed: row = true class,
        /// column = predicted class.
        public var tstrConfusion: [[Int]]

        enum CodingKeys: String, CodingKey {
            case classNames = "class_names", trainImages = "n_train", syntheticImages = "n_synthetic", testImages = "n_test"
            case epochs, width, seeds, trtr, tstr, augmented, lowDataFraction = "low_data_fraction"
            case lowDataReal = "low_data_real", lowDataAugmented = "low_data_augmented"
            case tstrOverTrtr = "tstr_over_trtr", tstrConfusion = "tstr_confusion"
        }
    }

    /// The five settings, each trained once a seed. `progress` hears (setting, seed, step,
    /// steps); `stopRequested` is asked before every step.
    public static func run(real: ImageDataset, synthetic: ImageDataset, test: ImageDataset, recipe: EvaluatorTraining,
                           seeds: [UInt64], lowDataFraction: Double, stopRequested: () -> Bool = { false },
                           progress: (String, UInt64, Int, Int) -> Void = { _, _, _, _ in }) throws -> Report {
        for set in [synthetic, test] where set.classNames != real.classNames {
            throw FileFormatError(path: set.root.path, reason: "its classes \(set.classNames) differ from \(real.root.path)'s \(real.classNames)")
        }
        guard real.labels != nil, !seeds.isEmpty else {
            throw FileFormatError(path: real.root.path, reason: "train-on-synthetic needs class folders")
        }
        let lowCount = max(real.classNames.count, Int((lowDataFraction * Double(real.count)).rounded()))
        let lowData = real.subset(Array(seededPermutation(real.count, seed: 1).prefix(lowCount)))
        let settings: [(name: String, data: ImageDataset)] = [
            ("trtr", real), ("tstr", synthetic), ("augmented", try real.appending(synthetic)),
            ("low-data real", lowData), ("low-data augmented", try lowData.appending(synthetic)),
        ]
        var scores: [Score] = [], tstrConfusion: [[Int]] = []
        for (name, data) in settings {
            var runs: [Double] = [], perClass: [[Double]] = []
            for seed in seeds {
                var seeded = recipe
                seeded.seed = seed
                let network = try seeded.train(data, stopRequested: stopRequested) { step, steps, _ in progress(name, seed, step, steps) }
                let confusion = try confusionMatrix(of: network, on: test)
                if name == "tstr" && tstrConfusion.isEmpty { tstrConfusion = confusion }
                let correct = confusion.indices.map { confusion[$0][$0] }.reduce(0, +)
                runs.append(Double(correct) / Double(test.count))
                perClass.append(confusion.indices.map { c in Double(confusion[c][c]) / Double(max(1, confusion[c].reduce(0, +))) })
            }
            let mean = runs.reduce(0, +) / Double(runs.count)
            let std = (runs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, runs.count - 1))).squareRoot()
            let classMeans = real.classNames.indices.map { c in perClass.map { $0[c] }.reduce(0, +) / Double(perClass.count) }
            scores.append(Score(mean: mean, std: std, runs: runs, perClass: classMeans))
        }
        return Report(classNames: real.classNames, trainImages: real.count, syntheticImages: synthetic.count, testImages: test.count,
                      epochs: recipe.epochs, width: recipe.width, seeds: seeds, trtr: scores[0], tstr: scores[1],
                      augmented: scores[2], lowDataFraction: Double(lowCount) / Double(real.count), lowDataReal: scores[3],
                      lowDataAugmented: scores[4], tstrOverTrtr: scores[1].mean / scores[0].mean, tstrConfusion: tstrConfusion)
    }

    /// Counts of (true class, predicted class) over `test`.
    public static func confusionMatrix(of network: EvaluatorNetwork, on test: ImageDataset, batchSize: Int = 256) throws -> [[Int]] {
        guard let labels = test.labels, test.classNames == network.config.classNames else {
            throw FileFormatError(path: test.root.path, reason: "its classes \(test.classNames) differ from the classifier's \(network.config.classNames)")
        }
        let k = test.classNames.count
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for start in stride(from: 0, to: test.count, by: batchSize) {
            let indices = Array(start..<min(start + batchSize, test.count))
            let logits = network.logits(Variable(test.batch(indices))).value.scalars
            for (row, index) in indices.enumerated() {
                let scores = logits[(row * k)..<((row + 1) * k)]
                confusion[labels[index]][scores.firstIndex(of: scores.max()!)! - row * k] += 1
            }
        }
        return confusion
    }
}
