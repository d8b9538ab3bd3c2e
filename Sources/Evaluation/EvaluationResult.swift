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

    enum CodingKeys: String, CodingKey {
        case features, nReal = "n_real", nFake = "n_fake", fid, kid, kidStd = "kid_std", precision, recall, density, coverage
        case inceptionScore = "inception_score", inceptionScoreStd = "inception_score_std"
        case classHistogram = "class_histogram", classEntropy = "class_entropy"
        case memorizationRate = "memorization_rate", nTrain = "n_train"
    }

    public init(features: String, nReal: Int, nFake: Int, fid: Double, kid: Double, kidStd: Double,
                precision: Double, recall: Double, density: Double, coverage: Double) {
        (self.features, self.nReal, self.nFake) = (features, nReal, nFake)
        (self.fid, self.kid, self.kidStd) = (fid, kid, kidStd)
        (self.precision, self.recall, self.density, self.coverage) = (precision, recall, density, coverage)
    }

    /// The report as a Markdown table.
    public func markdown(title: String) -> String {
        func row(_ name: String, _ value: Double?, _ format: String = "%.4f") -> String {
            value.map { "| \(name) | \(String(format: format, $0)) |\n" } ?? ""
        }
        var text = "# \(title)\n\nFeatures: \(features). Real images: \(nReal); generated images: \(nFake)"
        text += nTrain.map { "; training images: \($0)" } ?? ""
        text += ".\n\n| metric | value |\n|---|---|\n"
        text += row("FID", fid) + row("KID", kid, "%.5f") + row("KID std", kidStd, "%.5f")
        text += row("precision", precision) + row("recall", recall) + row("density", density) + row("coverage", coverage)
        text += row("inception score", inceptionScore) + row("inception score std", inceptionScoreStd)
        text += row("class entropy (nats)", classEntropy) + row("memorization rate", memorizationRate)
        if let classHistogram {
            text += "\nGenerated images per predicted class:\n\n| class | images |\n|---|---|\n"
            for name in classHistogram.keys.sorted() { text += "| \(name) | \(classHistogram[name]!) |\n" }
        }
        return text
    }
}
