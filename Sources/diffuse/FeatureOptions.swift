import ArgumentParser
import Evaluation
import Foundation
import Imaging
import NN

/// How `evaluate` and `compare` turn images into features, and the real images' features
/// through the cache.
struct FeatureOptions: ParsableArguments {
    enum Kind: String, ExpressibleByArgument, CaseIterable { case auto, evaluator, random, pixels }

    @Option(help: "The feature extractor: auto, evaluator, random or pixels.")
    var features: Kind = .auto
    @Option(help: "An evaluator folder (made by train-evaluator).")
    var evaluator: String?
    @Flag(help: "Recompute the real features even when cached.")
    var noCache = false

    /// The extractor --features asks for. auto: --evaluator, else a shipped evaluator trained on
    /// `realClasses`, else the random-weight network.
    func extractor(realClasses: [String], size: Int, channels: Int) throws -> FeatureExtractor {
        switch features {
        case .random: return RandomNetworkExtractor(resolution: size, channels: channels)
        case .pixels: return PixelExtractor(resolution: size, channels: channels)
        case .evaluator:
            guard let found = try evaluator.map({ try EvaluatorFolder.load(from: URL(fileURLWithPath: $0)) })
                ?? ShippedEvaluators.matching(classNames: realClasses, channels: channels) else {
                throw CommandError("--features evaluator: give --evaluator DIR (no shipped evaluator has the classes \(realClasses))")
            }
            return found
        case .auto:
            if let evaluator { return try EvaluatorFolder.load(from: URL(fileURLWithPath: evaluator)) }
            if let shipped = ShippedEvaluators.matching(classNames: realClasses, channels: channels) { return shipped }
            let searched = ShippedEvaluators.modelFolders.map(\.path).joined(separator: ", ")
            print("Note: no evaluator trained on these classes in \(searched.isEmpty ? "a Models/ folder" : searched); "
                  + "using the random-weight network (give --evaluator DIR for a trained one)")
            return RandomNetworkExtractor(resolution: size, channels: channels)
        }
    }

    /// The features of the real images `set`, from the cache unless --no-cache, else computed
    /// (with progress) and stored.
    func realFeatures(of set: ImageDataset, extractor: FeatureExtractor) throws -> Tensor {
        let cache = FeatureCache()
        let key = try FeatureCache.key(for: set, extractor: extractor)
        if !noCache, let cached = cache.load(key) {
            print("Real features from the cache (\(cache.folder.path))")
            return cached
        }
        let progress = Progress(total: set.count, unit: "img")
        let features = Evaluator.features(of: set, extractor: extractor) { progress.update($0, "real features") }.features
        progress.finish()
        try cache.store(features, key: key, description: "\(set.root.path) with \(extractor.name)")
        return features
    }
}
