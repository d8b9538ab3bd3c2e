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
        text += "| metric | value | real vs real\(floor.map { " (\($0.images) vs \($0.images))" } ?? "") |\n|---|---|---|\n"
        text += row("FID", fid, floor?.fidAtReportSizes) + row("KID", kid, floor?.kid, "%.5f") + row("KID std", kidStd, nil, "%.5f")
        text += row("precision", precision, floor?.precision) + row("recall", recall, floor?.recall)
        text += row("density", density, floor?.density) + row("coverage", coverage, floor?.coverage)
        text += row("inception score", inceptionScore) + row("inception score std", inceptionScoreStd)
        text += row("class entropy (nats)", classEntropy) + row("memorization rate", memorizationRate)
        if let floor {
            text += "\nReal vs real: two disjoint random sets of \(floor.images) real images measured the same way, "
            text += "the mean of \(floor.draws) draws; its FID (\(String(format: "%.4f", floor.fid)) at \(floor.images) vs "
            text += "\(floor.images)) is rescaled to \(nReal) vs \(nFake) images by FID's 1/N bias. A generated set "
            text += "near these numbers cannot be told from real data in these features.\n"
        }
        if let pixels { text += "\n" + pixels.markdown() }
        if let classHistogram {
            text += "\nGenerated images per predicted class:\n\n| class | images |\n|---|---|\n"
            for name in classHistogram.keys.sorted() { text += "| \(name) | \(classHistogram[name]!) |\n" }
        }
        return text
    }
}

/// The metrics of two disjoint random sets of real images, `images` each, averaged over
/// `draws` draws: the floor of a feature space at that sample size.
///
/// FID's floor is all bias, and FID's bias falls as 1/N in each set's size (Chong and Forsyth
/// 2020), so `fidAtReportSizes` rescales it from two sets of `images` to the sizes of the
/// report's own comparison (nReal against nFake): fid x (images / 2) x (1/nReal + 1/nFake).
/// KID is unbiased, so its floor is near 0 at any size; precision, recall, density and
/// coverage are given as measured at `images`.
public struct FeatureFloor: Codable, Equatable, Sendable {
    public var images: Int
    public var draws: Int
    public var fid: Double
    public var fidAtReportSizes: Double
    public var kid: Double
    public var precision: Double
    public var recall: Double
    public var density: Double
    public var coverage: Double

    enum CodingKeys: String, CodingKey {
        case images, draws, fid, fidAtReportSizes = "fid_at_report_sizes", kid, precision, recall, density, coverage
    }
}
