/// The receiver operating characteristic of a score that should be higher for positives
/// (members) than for negatives (non-members): the true-positive rate against the false-positive
/// rate as the threshold falls through every distinct score.
public struct ROCCurve: Sendable {
    /// (false-positive rate, true-positive rate), from (0, 0) to (1, 1); tied scores move both
    /// rates in one point.
    public let points: [(fpr: Double, tpr: Double)]
    public let positives: Int
    public let negatives: Int

    public init(positives positiveScores: [Double], negatives negativeScores: [Double]) {
        precondition(!positiveScores.isEmpty && !negativeScores.isEmpty, "a ROC curve needs positives and negatives")
        let scored = (positiveScores.map { ($0, true) } + negativeScores.map { ($0, false) }).sorted { $0.0 > $1.0 }
        var points: [(fpr: Double, tpr: Double)] = [(0, 0)]
        var (truePositives, falsePositives) = (0, 0)
        for (i, (score, positive)) in scored.enumerated() {
            if positive { truePositives += 1 } else { falsePositives += 1 }
            // A point only where the score changes, so that ties are one step of the curve.
            if i + 1 == scored.count || scored[i + 1].0 != score {
                points.append((Double(falsePositives) / Double(negativeScores.count), Double(truePositives) / Double(positiveScores.count)))
            }
        }
        (self.points, positives, negatives) = (points, positiveScores.count, negativeScores.count)
    }

    /// The area under the curve (trapezoids): the chance that a random positive outscores a
    /// random negative, ties counting half (the Mann-Whitney U over positives x negatives).
    public var auc: Double {
        zip(points, points.dropFirst()).map { a, b in (b.fpr - a.fpr) * (a.tpr + b.tpr) / 2 }.reduce(0, +)
    }

    /// The highest true-positive rate of a threshold whose false-positive rate is at most
    /// `fpr` (Carlini et al. 2022 judge attacks there). Below 1 / negatives only the thresholds
    /// that let no negative through count.
    public func truePositiveRate(atFalsePositiveRate fpr: Double) -> Double {
        points.filter { $0.fpr <= fpr + 1e-12 }.map(\.tpr).max() ?? 0
    }
}
