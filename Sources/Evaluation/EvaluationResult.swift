/// What `diffuse evaluate` reports, under the JSON keys of the report.
public struct EvaluationResult: Codable, Equatable, Sendable {
    /// The feature extractor: numbers from different extractors are not comparable.
    public var features: String
    public var nReal: Int
    public var nFake: Int
    public var fid: Double
    public var kid: Double
    public var kidStd: Double
    public var precision: Double
    public var recall: Double
    public var density: Double
    public var coverage: Double
    /// With a classifier evaluator: the Inception-Score-style score of the fake images.
    public var inceptionScore: Double?
    public var inceptionScoreStd: Double?
    /// With a classifier evaluator: fake images per predicted class, and that histogram's
    /// entropy in nats (log K for a perfectly balanced set of K classes).
    public var classHistogram: [String: Int]?
    public var classEntropy: Double?
    /// With a classifier evaluator and class folders on both sides: the share of generated
    /// images the evaluator files under the class they were made for, and the same share of the
    /// real images (the classifier's own accuracy, what a faithful generator would score).
    public var classAgreement: Double?
    public var realClassAgreement: Double?
    /// With training images: the fraction of fake images that copy one (Gu et al. ratio test).
    public var memorizationRate: Double?
    public var nTrain: Int?
    /// The same metrics between two disjoint sets of real images of the generated set's size:
    /// what chance alone gives in this feature space at this size.
    public var floor: FeatureFloor?
    /// Pixel statistics of the two image sets (image folders only; not from .npy features).
    public var pixels: PixelComparison?
    /// What a reader must not miss (printed after "Warning: "): the pixel statistics beyond
    /// their real-vs-real floor.
    public var warnings: [String]?

    enum CodingKeys: String, CodingKey {
        case features, nReal = "n_real", nFake = "n_fake", fid, kid, kidStd = "kid_std", precision, recall, density, coverage
        case inceptionScore = "inception_score", inceptionScoreStd = "inception_score_std"
        case classHistogram = "class_histogram", classEntropy = "class_entropy"
        case classAgreement = "class_agreement", realClassAgreement = "real_class_agreement"
        case memorizationRate = "memorization_rate", nTrain = "n_train", floor, pixels, warnings
    }

    public init(features: String, nReal: Int, nFake: Int, fid: Double, kid: Double, kidStd: Double,
                precision: Double, recall: Double, density: Double, coverage: Double) {
        (self.features, self.nReal, self.nFake) = (features, nReal, nFake)
        (self.fid, self.kid, self.kidStd) = (fid, kid, kidStd)
        (self.precision, self.recall, self.density, self.coverage) = (precision, recall, density, coverage)
    }

    /// The report as Markdown: the warnings (unless `warnings` is false: a terminal prints
    /// them last, as "Warning:" lines), the metrics beside their real-vs-real floor and the
    /// pixel statistics.
    public func markdown(title: String, warnings showWarnings: Bool = true) -> String {
        func number(_ value: Double?, _ format: String) -> String { value.map { String(format: format, $0) } ?? "" }
        func row(_ name: String, _ value: Double?, _ floorValue: Double? = nil, _ format: String = "%.4f") -> String {
            value.map { "| \(name) | \(String(format: format, $0)) | \(number(floorValue, format)) |\n" } ?? ""
        }
        var text = "# \(title)\n\nFeatures: \(features). Real images: \(nReal); generated images: \(nFake)"
        text += nTrain.map { "; training images: \($0)" } ?? ""
        text += ".\n\n"
        if showWarnings { text += (warnings ?? []).map { "**Warning:** \($0)\n\n" }.joined() }
        text += "| metric | value | real vs real\(floor.map { " (\($0.images) held out vs \($0.referenceImages))" } ?? "") |\n|---|---|---|\n"
        text += row("FID", fid, floor?.fidAtReportSizes) + row("KID", kid, floor?.kid, "%.5f") + row("KID std", kidStd, nil, "%.5f")
        text += row("precision", precision, floor?.precision) + row("recall", recall, floor?.recall)
        text += row("density", density, floor?.density) + row("coverage", coverage, floor?.coverage)
        text += row("inception score", inceptionScore) + row("inception score std", inceptionScoreStd)
        text += row("class entropy (nats)", classEntropy)
        text += row("class agreement (the evaluator's class is the asked one)", classAgreement, realClassAgreement)
        text += row("memorization rate", memorizationRate)
        if let floor {
            text += "\nReal vs real: \(floor.images) real images held out as if generated and measured against the other "
            text += "\(floor.referenceImages), the mean of \(floor.draws) random draws; its FID (\(String(format: "%.4f", floor.fid))) "
            text += "is rescaled to \(nReal) vs \(nFake) images by FID's 1/N bias. A generated set near these numbers "
            text += "cannot be told from real data in these features. Sets made class by class in the real proportions "
            text += "can score below it: random draws also vary in their class counts.\n"
        }
        if let pixels { text += "\n" + pixels.markdown() }
        if let classHistogram {
            text += "\nGenerated images per predicted class:\n\n| class | images |\n|---|---|\n"
            for name in classHistogram.keys.sorted() { text += "| \(name) | \(classHistogram[name]!) |\n" }
        }
        return text
    }
}

/// The metrics of `images` real images held out as if generated, against the other
/// `referenceImages` real ones, averaged over `draws` random draws: the floor of a feature
/// space at the report's sizes (near them when the real set holds under twice the generated).
///
/// FID's floor is all bias, and FID's bias falls as 1/N in each set's size (Chong and Forsyth
/// 2020), so `fidAtReportSizes` rescales it from (referenceImages, images) to the report's own
/// (nReal, nFake): fid x (1/nReal + 1/nFake) / (1/referenceImages + 1/images). KID is
/// unbiased; precision, recall, density and coverage are given as measured.
public struct FeatureFloor: Codable, Equatable, Sendable {
    public var images: Int
    public var referenceImages: Int
    public var draws: Int
    public var fid: Double
    public var fidAtReportSizes: Double
    public var kid: Double
    public var precision: Double
    public var recall: Double
    public var density: Double
    public var coverage: Double

    enum CodingKeys: String, CodingKey {
        case images, referenceImages = "reference_images", draws, fid, fidAtReportSizes = "fid_at_report_sizes", kid
        case precision, recall, density, coverage
    }
}
