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
        /// The classes the synthetic set holds: all of `classNames`, or some of them (a set
        /// that tops up rare classes).
        public var syntheticClasses: [String]
        public var trainImages: Int
        public var syntheticImages: Int
        public var testImages: Int
        public var epochs: Int
        public var width: Int
        public var seeds: [UInt64]
        public var trtr: Score
        /// Nil when the synthetic set lacks classes: a classifier cannot learn a class it never sees.
        public var tstr: Score?
        public var augmented: Score
        /// The fraction of the real training images in the low-data runs, and the runs.
        public var lowDataFraction: Double
        public var lowDataReal: Score
        public var lowDataAugmented: Score
        /// TSTR's mean accuracy over TRTR's (nil without TSTR).
        public var tstrOverTrtr: Double?
        /// The confusion matrix on the test images of the first seed of `confusionSetting` (TSTR,
        /// or augmented without TSTR): row = true class, column = predicted class.
        public var confusion: [[Int]]
        public var confusionSetting: String

        enum CodingKeys: String, CodingKey {
            case classNames = "class_names", syntheticClasses = "synthetic_classes", trainImages = "n_train"
            case syntheticImages = "n_synthetic", testImages = "n_test"
            case epochs, width, seeds, trtr, tstr, augmented, lowDataFraction = "low_data_fraction"
            case lowDataReal = "low_data_real", lowDataAugmented = "low_data_augmented"
            case tstrOverTrtr = "tstr_over_trtr", confusion, confusionSetting = "confusion_setting"
        }

        /// Whether the synthetic set holds only some of the classes.
        public var isPartial: Bool { syntheticClasses.count < classNames.count }
    }

    /// The settings, each trained once a seed: TRTR, TSTR (only when the synthetic set holds
    /// every class; its classes may be any of the real ones), augmented and the two low-data
    /// ones. `progress` hears (setting, seed, step, steps); `stopRequested` is asked before
    /// every step.
    public static func run(real: ImageDataset, synthetic: ImageDataset, test: ImageDataset, recipe: EvaluatorTraining,
                           seeds: [UInt64], lowDataFraction: Double, stopRequested: () -> Bool = { false },
                           progress: (String, UInt64, Int, Int) -> Void = { _, _, _, _ in }) throws -> Report {
        guard real.labels != nil, !seeds.isEmpty else {
            throw FileFormatError(path: real.root.path, reason: "train-on-synthetic needs class folders")
        }
        if test.classNames != real.classNames {
            throw FileFormatError(path: test.root.path, reason: "its classes \(test.classNames) differ from \(real.root.path)'s \(real.classNames)")
        }
        let syntheticClasses = synthetic.classNames
        let relabelled = try synthetic.relabelled(to: real.classNames)
        let complete = syntheticClasses.count == real.classNames.count
        let lowCount = max(real.classNames.count, Int((lowDataFraction * Double(real.count)).rounded()))
        let lowData = real.subset(Array(seededPermutation(real.count, seed: 1).prefix(lowCount)))
        var settings: [(name: String, data: ImageDataset)] = [
            ("trtr", real), ("augmented", try real.appending(relabelled)),
            ("low-data real", lowData), ("low-data augmented", try lowData.appending(relabelled)),
        ]
        if complete { settings.insert(("tstr", relabelled), at: 1) }
        var scores: [String: Score] = [:], confusions: [String: [[Int]]] = [:]
        for (name, data) in settings {
            var runs: [Double] = [], perClass: [[Double]] = []
            for seed in seeds {
                var seeded = recipe
                seeded.seed = seed
                let network = try seeded.train(data, stopRequested: stopRequested) { step, steps, _ in progress(name, seed, step, steps) }
                let confusion = try EvaluatorTraining.confusionMatrix(of: network, on: test)
                if confusions[name] == nil { confusions[name] = confusion }
                runs.append(EvaluatorTraining.accuracy(confusion))
                perClass.append(classAccuracies(confusion))
            }
            let mean = runs.reduce(0, +) / Double(runs.count)
            let std = (runs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, runs.count - 1))).squareRoot()
            let classMeans = real.classNames.indices.map { c in perClass.map { $0[c] }.reduce(0, +) / Double(perClass.count) }
            scores[name] = Score(mean: mean, std: std, runs: runs, perClass: classMeans)
        }
        let confusionSetting = complete ? "tstr" : "augmented"
        return Report(classNames: real.classNames, syntheticClasses: syntheticClasses, trainImages: real.count,
                      syntheticImages: synthetic.count, testImages: test.count, epochs: recipe.epochs, width: recipe.width,
                      seeds: seeds, trtr: scores["trtr"]!, tstr: scores["tstr"], augmented: scores["augmented"]!,
                      lowDataFraction: Double(lowCount) / Double(real.count), lowDataReal: scores["low-data real"]!,
                      lowDataAugmented: scores["low-data augmented"]!, tstrOverTrtr: scores["tstr"].map { $0.mean / scores["trtr"]!.mean },
                      confusion: confusions[confusionSetting]!, confusionSetting: confusionSetting)
    }

    /// Each true class's share of its test images predicted right (0 for a class without any).
    public static func classAccuracies(_ confusion: [[Int]]) -> [Double] {
        confusion.indices.map { c in Double(confusion[c][c]) / Double(max(1, confusion[c].reduce(0, +))) }
    }
}
