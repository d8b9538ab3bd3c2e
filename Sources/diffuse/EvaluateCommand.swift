import ArgumentParser
import Evaluation
import Foundation
import Imaging
import NN

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure generated images against real ones: FID, KID, precision/recall, density/coverage, memorization.",
        discussion: """
            Compares image folders (--real, --fake) through a feature extractor, or features \
            computed elsewhere (--real-features, --fake-features: N x D .npy). --features auto \
            uses --evaluator, else a shipped evaluator (Models/) whose classes are the real \
            folder's, else the random-weight network. Real features are cached (see --no-cache). \
            With --train, also reports how many generated images copy a training image.
            """
    )

    enum FeatureKind: String, ExpressibleByArgument, CaseIterable { case auto, evaluator, random, pixels }

    @Option(help: "The folder of real images.")
    var real: String?
    @Option(help: "The folder of generated images.")
    var fake: String?
    @Option(help: "Real features (.npy, N x D) instead of --real.")
    var realFeatures: String?
    @Option(help: "Generated features (.npy, N x D) instead of --fake.")
    var fakeFeatures: String?
    @Option(help: "The feature extractor: auto, evaluator, random or pixels.")
    var features: FeatureKind = .auto
    @Option(help: "An evaluator folder (made by train-evaluator).")
    var evaluator: String?
    @Option(help: "Training images, to measure memorization.")
    var train: String?
    @Option(help: "Where to draw the closest generated/training pairs (with --train).")
    var pairs: String = "closest-pairs.png"
    @Option(help: "Write the report as JSON here.")
    var json: String?
    @Option(help: "Write the report as Markdown here.")
    var markdown: String?
    @Option(help: "Seed of KID's random subsets.")
    var seed: UInt64 = 0
    @Flag(help: "Recompute the real features even when cached.")
    var noCache = false

    func validate() throws {
        let usesFolders = real != nil || fake != nil
        let usesFeatures = realFeatures != nil || fakeFeatures != nil
        guard usesFolders != usesFeatures else {
            throw ValidationError("give --real and --fake (image folders), or --real-features and --fake-features (.npy)")
        }
        if usesFolders && (real == nil || fake == nil) { throw ValidationError("--real and --fake go together") }
        if usesFeatures && (realFeatures == nil || fakeFeatures == nil) {
            throw ValidationError("--real-features and --fake-features go together")
        }
        if usesFeatures && train != nil { throw ValidationError("--train needs image folders (--real, --fake)") }
    }

    func run() throws {
        var result: EvaluationResult
        if let realFeatures, let fakeFeatures {
            let realMatrix = try FeatureMatrix(Npy.read(from: URL(fileURLWithPath: realFeatures)))
            let fakeMatrix = try FeatureMatrix(Npy.read(from: URL(fileURLWithPath: fakeFeatures)))
            result = try Evaluator.compare(real: realMatrix, fake: fakeMatrix,
                                           extractor: "features from \(realFeatures) and \(fakeFeatures)", seed: seed)
        } else {
            result = try evaluateFolders(real: real!, fake: fake!)
        }
        print(result.markdown(title: "Evaluation"))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeAtomically(try encoder.encode(result), to: URL(fileURLWithPath: json))
        }
        if let markdown {
            try writeAtomically(Array(result.markdown(title: "Evaluation: \(fake ?? fakeFeatures!)").utf8), to: URL(fileURLWithPath: markdown))
        }
    }

    private func evaluateFolders(real: String, fake: String) throws -> EvaluationResult {
        let fakeListing = try ImageFolder.scan(URL(fileURLWithPath: fake))
        let fakeInfo = try PNG.info(of: fakeListing.files[0].url)
        let realListing = try ImageFolder.scan(URL(fileURLWithPath: real))
        let extractor = try chooseExtractor(realClasses: realListing.classNames, size: fakeInfo.width,
                                            channels: fakeInfo.colorType.hasPrefix("gray") ? 1 : 3)
        print("Features: \(extractor.name)")
        let fakeSet = try ImageDataset.load(folder: URL(fileURLWithPath: fake), resolution: extractor.resolution, channels: extractor.channels)
        let realSet = try ImageDataset.load(folder: URL(fileURLWithPath: real), resolution: extractor.resolution, channels: extractor.channels)

        let cache = FeatureCache()
        let key = try FeatureCache.key(for: realSet, extractor: extractor)
        var realFeatures = noCache ? nil : cache.load(key)
        if realFeatures == nil {
            let progress = Progress(total: realSet.count, unit: "img")
            realFeatures = Evaluator.features(of: realSet, extractor: extractor) { progress.update($0, "real features") }.features
            progress.finish()
            try cache.store(realFeatures!, key: key, description: "\(real) with \(extractor.name)")
        } else {
            print("Real features from the cache (\(cache.folder.path))")
        }
        let progress = Progress(total: fakeSet.count, unit: "img")
        let (fakeFeatures, probabilities) = Evaluator.features(of: fakeSet, extractor: extractor) { progress.update($0, "generated features") }
        progress.finish()

        var result = try Evaluator.compare(real: FeatureMatrix(realFeatures!), fake: FeatureMatrix(fakeFeatures),
                                           extractor: extractor.name, seed: seed)
        if let probabilities, let evaluator = extractor as? EvaluatorExtractor {
            let score = try Evaluator.inceptionScore(probabilities, seed: seed)
            (result.inceptionScore, result.inceptionScoreStd) = (score.mean, score.std)
            let classes = Evaluator.classHistogram(probabilities, classNames: evaluator.network.config.classNames)
            (result.classHistogram, result.classEntropy) = (classes.histogram, classes.entropy)
        }
        if let train {
            let report = try MemorizationCheck.run(fake: fake, train: train, size: fakeInfo.width, channels: extractor.channels,
                                                   pairs: URL(fileURLWithPath: pairs))
            (result.memorizationRate, result.nTrain) = (report.rate, report.trainCount)
            print("Closest pairs (generated | training): \(pairs)")
        }
        return result
    }

    /// The extractor --features asks for.
    private func chooseExtractor(realClasses: [String], size: Int, channels: Int) throws -> FeatureExtractor {
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
            return ShippedEvaluators.matching(classNames: realClasses, channels: channels)
                ?? RandomNetworkExtractor(resolution: size, channels: channels)
        }
    }
}
