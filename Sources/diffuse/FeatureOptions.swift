import ArgumentParser
import Evaluation
import Foundation
import Imaging
import NN

/// How `evaluate` and `compare` turn images into features, and the real images' features
/// through the cache.
struct FeatureOptions: ParsableArguments {
    /// What --features names.
    enum Kind: Equatable, ExpressibleByArgument {
        case auto, evaluator, random, pixels
        /// pytorch-fid's FID Inception with the weights in this safetensors file.
        case inception(String)

        init?(argument: String) {
            switch argument {
            case "auto": self = .auto
            case "evaluator": self = .evaluator
            case "random": self = .random
            case "pixels": self = .pixels
            default:
                guard argument.hasPrefix("inception:"), argument.count > "inception:".count else { return nil }
                self = .inception(String(argument.dropFirst("inception:".count)))
            }
        }

        var defaultValueDescription: String { "auto" }
    }

    @Option(help: ArgumentHelp("The feature extractor: auto, evaluator, random, pixels or inception:FILE.",
                               discussion: "inception:FILE is the standard FID judge: pytorch-fid's FID Inception v3 (2,048 features) with weights converted by Models/fid-inception/convert.py (not shipped)."))
    var features: Kind = .auto
    @Option(help: "An evaluator: a folder made by train-evaluator, or the name of a shipped one in Models/ (e.g. fashion-mnist-evaluator).")
    var evaluator: String?
    @Option(help: "With --features inception:FILE: resize to 299 as pytorch-fid does (bilinear) or as clean-fid does (bicubic).")
    var inceptionResize: InceptionExtractor.Resize = .pytorchFID
    @Flag(help: "Recompute the real features even when cached.")
    var noCache = false

    /// The extractor --features asks for. auto: --evaluator, else a shipped evaluator trained on
    /// `realClasses`, else the random-weight network.
    func extractor(realClasses: [String], size: Int, channels: Int) throws -> FeatureExtractor {
        switch features {
        case .inception(let file):
            return try InceptionExtractor(file: URL(fileURLWithPath: file), resolution: size, channels: channels, resize: inceptionResize)
        case .random: return RandomNetworkExtractor(resolution: size, channels: channels)
        case .pixels: return PixelExtractor(resolution: size, channels: channels)
        case .evaluator:
            guard let found = try evaluator.map({ try ShippedEvaluators.load($0) })
                ?? ShippedEvaluators.matching(classNames: realClasses, channels: channels) else {
                throw CommandError("--features evaluator: give --evaluator DIR (no shipped evaluator has the classes \(realClasses))")
            }
            return found
        case .auto:
            if let evaluator { return try ShippedEvaluators.load(evaluator) }
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

extension InceptionExtractor.Resize: ExpressibleByArgument {}
