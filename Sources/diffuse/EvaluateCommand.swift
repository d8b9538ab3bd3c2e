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
            computed elsewhere (--real-features, --fake-features: N x D .npy; several \
            --fake-features files, comma-separated, are one set: the shards of a sharded run, \
            each written with --fake-features-out, give the one-machine numbers). --features auto \
            uses --evaluator, else a shipped evaluator (Models/) whose classes are the real \
            folder's, else the random-weight network. Real features are cached (see --no-cache). \
            With --train, also reports how many generated images copy a training image.
            """
    )

    @Option(help: "The folder of real images.")
    var real: String?
    @Option(help: "The folder of generated images.")
    var fake: String?
    @Option(help: "Real features (.npy, N x D) instead of --real.")
    var realFeatures: String?
    @Option(help: "Generated features (.npy, N x D; several files comma-separated are one set) instead of --fake.")
    var fakeFeatures: String?
    @Option(help: "Also write the generated images' features here (.npy, N x D Float32), to merge shards later.")
    var fakeFeaturesOut: String?
    @Option(help: "Also write the real images' features here (.npy, N x D Float32), for --real-features.")
    var realFeaturesOut: String?
    @OptionGroup var featureOptions: FeatureOptions
    @Option(help: "Training images, to measure memorization.")
    var train: String?
    @Option(help: "Where to draw the closest generated/training pairs (with --train).")
    var pairs: String = "closest-pairs.png"
    @Option(help: "Write the report as JSON here.")
    var json: String?
    @Option(help: "Write the report as Markdown here.")
    var markdown: String?
    @Option(help: "Seed of KID's random subsets (and of --calibrate's sets and disturbances).")
    var seed: UInt64 = 0
    @Flag(help: "Measure the feature extractor instead of generated images: --real against itself disturbed by noise, blur, black rectangles, salt-and-pepper, a lifted black level and another class's images, each at 4 levels, beside the real-vs-real floor.")
    var calibrate = false
    @Option(help: "With --calibrate: images in each of the two real sets.")
    var count: Int = 1000
    @Option(help: "With --calibrate: the class left out of both sets and mixed in (default: the first class).")
    var otherClass: String?
    @Option(help: "With --calibrate: write the chart (SVG) here.")
    var chart: String?

    func validate() throws {
        if calibrate {
            guard real != nil, fake == nil, realFeatures == nil, fakeFeatures == nil, train == nil else {
                throw ValidationError("--calibrate takes --real (a folder of real images) and no generated images or features")
            }
            guard count >= 2 else { throw ValidationError("--count must be at least 2") }
            return
        }
        if otherClass != nil || chart != nil { throw ValidationError("--other-class and --chart go with --calibrate") }
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
        if usesFeatures && (fakeFeaturesOut != nil || realFeaturesOut != nil) {
            throw ValidationError("--fake-features-out and --real-features-out need image folders (--real, --fake)")
        }
    }

    func run() throws {
        if calibrate { return try runCalibration(real: real!) }
        var result: EvaluationResult
        if let realFeatures, let fakeFeatures {
            let realMatrix = try FeatureMatrix(Npy.read(from: URL(fileURLWithPath: realFeatures)))
            let fakeMatrix = try Self.merged(fakeFeatures.split(separator: ",").map { String($0) })
            result = try Evaluator.compare(real: realMatrix, fake: fakeMatrix,
                                           extractor: "features from \(realFeatures) and \(fakeFeatures)", seed: seed)
            result.floor = try Evaluator.floor(real: realMatrix, fakeCount: fakeMatrix.count, seed: seed)
        } else {
            result = try evaluateFolders(real: real!, fake: fake!)
        }
        print(result.markdown(title: "Evaluation", warnings: false))
        for warning in result.warnings ?? [] { print("Warning: \(warning)") }
        if let json { try writeJSONReport(result, to: json) }
        if let markdown {
            try writeAtomically(Array(result.markdown(title: "Evaluation: \(fake ?? fakeFeatures!)").utf8), to: URL(fileURLWithPath: markdown))
        }
    }

    /// The rows of several .npy feature files, in the order given, as one set.
    static func merged(_ paths: [String]) throws -> FeatureMatrix {
        var values: [Double] = [], dimension: Int?
        for path in paths {
            let part = try FeatureMatrix(Npy.read(from: URL(fileURLWithPath: path)))
            guard dimension == nil || dimension == part.dimension else {
                throw CommandError("\(path): \(part.dimension) features a row, but \(paths[0]) has \(dimension!)")
            }
            dimension = part.dimension
            values += part.values
        }
        let d = dimension ?? 0
        return FeatureMatrix(count: d == 0 ? 0 : values.count / d, dimension: d, values: values)
    }

    /// The disturbance ladder of the extractor on the real folder.
    private func runCalibration(real: String) throws {
        let listing = try ImageFolder.scan(URL(fileURLWithPath: real))
        guard let first = listing.files.first else { throw CommandError("\(real): no PNG images found") }
        let info = try PNG.info(of: first.url)
        let extractor = try featureOptions.extractor(realClasses: listing.classNames, size: info.width,
                                                     channels: info.colorType.hasPrefix("gray") ? 1 : 3)
        print("Features: \(extractor.name)")
        let dataset = try ImageDataset.load(folder: URL(fileURLWithPath: real), resolution: extractor.resolution, channels: extractor.channels)
        let report = try Calibration.run(dataset, extractor: extractor, size: count, otherClass: otherClass, seed: seed) { label in
            print("  \(label)")
        }
        print(report.markdown(verdicts: false))
        for verdict in report.verdicts { print("Warning: \(verdict)") }
        if let json { try writeJSONReport(report, to: json) }
        if let markdown { try writeAtomically(Array(report.markdown().utf8), to: URL(fileURLWithPath: markdown)) }
        if let chart { try writeAtomically(Array(report.chart().svg().utf8), to: URL(fileURLWithPath: chart)) }
    }

    private func evaluateFolders(real: String, fake: String) throws -> EvaluationResult {
        let fakeListing = try ImageFolder.scan(URL(fileURLWithPath: fake))
        guard let firstFake = fakeListing.files.first else { throw CommandError("\(fake): no PNG images found") }
        let fakeInfo = try PNG.info(of: firstFake.url)
        let realListing = try ImageFolder.scan(URL(fileURLWithPath: real))
        let extractor = try featureOptions.extractor(realClasses: realListing.classNames, size: fakeInfo.width,
                                                     channels: fakeInfo.colorType.hasPrefix("gray") ? 1 : 3)
        print("Features: \(extractor.name)")
        let fakeSet = try ImageDataset.load(folder: URL(fileURLWithPath: fake), resolution: extractor.resolution, channels: extractor.channels)
        let realSet = try ImageDataset.load(folder: URL(fileURLWithPath: real), resolution: extractor.resolution, channels: extractor.channels)
        let realFeatures = try featureOptions.realFeatures(of: realSet, extractor: extractor)
        let progress = Progress(total: fakeSet.count, unit: "img")
        let (fakeFeatures, probabilities) = Evaluator.features(of: fakeSet, extractor: extractor) { progress.update($0, "generated features") }
        progress.finish()
        if let fakeFeaturesOut { try Npy.write(fakeFeatures, to: URL(fileURLWithPath: fakeFeaturesOut)) }

        if let realFeaturesOut { try Npy.write(realFeatures, to: URL(fileURLWithPath: realFeaturesOut)) }
        let realMatrix = FeatureMatrix(realFeatures)
        var result = try Evaluator.compare(real: realMatrix, fake: FeatureMatrix(fakeFeatures), extractor: extractor.name, seed: seed)
        result.floor = try Evaluator.floor(real: realMatrix, fakeCount: fakeSet.count, seed: seed)
        let realPixels = PixelSet(realSet)
        Evaluator.addPixelStatistics(to: &result, real: PixelSummary(realPixels), fake: PixelSet(fakeSet),
                                     floor: PixelFloor(real: realPixels, size: fakeSet.count, seed: seed))
        try Evaluator.addClassScores(to: &result, probabilities: probabilities, extractor: extractor, seed: seed)
        if let evaluator = extractor as? EvaluatorExtractor, let probabilities, let fakeLabels = fakeSet.labels, realSet.labels != nil,
           fakeSet.classNames == evaluator.network.config.classNames, realSet.classNames == fakeSet.classNames {
            result.classAgreement = Evaluator.classAgreement(probabilities, labels: fakeLabels)
            // The real set's features may come from a cache, without probabilities: run the network.
            result.realClassAgreement = try EvaluatorTraining.accuracy(of: evaluator.network, on: realSet)
        }
        if let train {
            let report = try MemorizationCheck.run(fake: fake, train: train, size: fakeInfo.width, channels: extractor.channels,
                                                   pairs: URL(fileURLWithPath: pairs))
            (result.memorizationRate, result.nTrain) = (report.rate, report.trainCount)
            print("Closest pairs (generated | training): \(pairs)")
        }
        return result
    }
}
