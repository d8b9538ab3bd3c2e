import Foundation

/// The Inception score (Salimans et al. 2016) of class probabilities p(y|x), one row a sample,
/// as torch-fidelity's `isc_features_to_metric` computes it with `samples_shuffle=False`:
/// rows split into `splits` consecutive parts, part i = rows i*N/splits ..< (i+1)*N/splits
/// (integer division); per part, with q = the mean row of the part,
///
///     score_i = exp(mean over rows of KL(p || q)) = exp(mean_x sum_y p(y|x) (log p(y|x) - log q(y)))
///
/// and the result is the mean and the standard deviation (ddof = 0, `np.std`) of the scores.
/// torch-fidelity takes logits and shuffles the rows first (seeded); shuffle before calling to
/// match that. Terms with p(y|x) = 0 count as 0.
public enum InceptionScore {
    public static func compute(probabilities: FeatureMatrix, splits: Int = 10) throws -> (mean: Double, std: Double) {
        let (n, classes) = (probabilities.count, probabilities.dimension)
        guard splits >= 1 else { throw MetricError.invalidArgument("Inception score needs at least one split, got \(splits)") }
        try probabilities.check("class probabilities", atLeast: splits)
        guard classes >= 1, probabilities.values.allSatisfy({ $0 >= 0 }) else {
            throw MetricError.invalidArgument("class probabilities must be rows of numbers >= 0")
        }
        var scores = [Double]()
        probabilities.values.withUnsafeBufferPointer { p in
            for split in 0..<splits {
                let rows = split * n / splits ..< (split + 1) * n / splits
                var q = [Double](repeating: 0, count: classes)
                for i in rows { for c in 0..<classes { q[c] += p[i * classes + c] } }
                let logQ = q.map { log($0 / Double(rows.count)) }
                var klSum = 0.0
                for i in rows {
                    var kl = 0.0
                    for c in 0..<classes {
                        let value = p[i * classes + c]
                        if value > 0 { kl += value * (log(value) - logQ[c]) }
                    }
                    klSum += kl
                }
                scores.append(exp(klSum / Double(rows.count)))
            }
        }
        let mean = scores.reduce(0, +) / Double(splits)
        let variance = scores.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(splits)
        return (mean, variance.squareRoot())
    }
}
