/// Memorization of training images by a generator, after Gu et al. 2023 ("On Memorization in
/// Diffusion Probabilistic Models"): a generated sample is a copy of a training image when its
/// nearest training image is much nearer than the second nearest,
///
///     d(x, nearest) / d(x, second nearest) < 1/3,
///
/// with d the Euclidean distance of flattened pixels divided by sqrt(C H W): pass
/// `pixels.scaled(by: 1 / sqrt(C * H * W))` (the ratio itself does not change with the scale).
/// With two identical nearest training images the ratio is 0 / 0 and the sample does not count:
/// remove duplicates from the training set first.
public enum Memorization {
    public static let copyThreshold = 1.0 / 3.0

    /// A query's two nearest references: indices and Euclidean distances.
    public struct NearestPair: Codable, Sendable, Equatable {
        public var first: Int
        public var firstDistance: Double
        public var second: Int
        public var secondDistance: Double

        /// firstDistance < threshold * secondDistance (the ratio test without dividing by 0).
        public func isCopy(threshold: Double = Memorization.copyThreshold) -> Bool {
            firstDistance < threshold * secondDistance
        }
    }

    /// For every query row, the nearest and second-nearest reference rows. Candidates come from
    /// the BLAS distance tiles; the two distances are then recomputed directly as
    /// sqrt(sum (x - y)^2), which stays accurate for near-copies where |x|^2 + |y|^2 - 2 x.y
    /// cancels.
    public static func nearestTwo(queries: FeatureMatrix, references: FeatureMatrix) throws -> [NearestPair] {
        try checkSameDimension(queries, references, "queries and references")
        try queries.checkFinite("queries")
        try references.check("references", atLeast: 2)
        let n = queries.count, d = queries.dimension
        // Per query: the two smallest squared distances and their references.
        var best = [Double](repeating: .infinity, count: 2 * n)
        var index = [Int](repeating: 0, count: 2 * n)
        best.withUnsafeMutableBufferPointer { best in
            index.withUnsafeMutableBufferPointer { index in
                PairwiseDistances.scan(queries, references) { _, tile in
                    for i in tile.rows {
                        let row = tile.row(i)
                        var (d1, d2, i1, i2) = (best[2 * i], best[2 * i + 1], index[2 * i], index[2 * i + 1])
                        for j in 0..<tile.columns.count where row[j] < d2 {
                            if row[j] < d1 {
                                (d2, i2) = (d1, i1)
                                (d1, i1) = (row[j], tile.columns.lowerBound + j)
                            } else {
                                (d2, i2) = (row[j], tile.columns.lowerBound + j)
                            }
                        }
                        (best[2 * i], best[2 * i + 1], index[2 * i], index[2 * i + 1]) = (d1, d2, i1, i2)
                    }
                }
            }
        }
        return queries.values.withUnsafeBufferPointer { q in
            references.values.withUnsafeBufferPointer { r in
                func distance(_ i: Int, _ j: Int) -> Double {
                    var sum = 0.0
                    for c in 0..<d {
                        let difference = q[i * d + c] - r[j * d + c]
                        sum += difference * difference
                    }
                    return sum.squareRoot()
                }
                return (0..<n).map { i in
                    var pair = NearestPair(first: index[2 * i], firstDistance: distance(i, index[2 * i]),
                                           second: index[2 * i + 1], secondDistance: distance(i, index[2 * i + 1]))
                    if pair.secondDistance < pair.firstDistance {
                        pair = NearestPair(first: pair.second, firstDistance: pair.secondDistance,
                                           second: pair.first, secondDistance: pair.firstDistance)
                    }
                    return pair
                }
            }
        }
    }

    /// The fraction of queries that are copies (`NearestPair.isCopy`).
    public static func copyRate(queries: FeatureMatrix, references: FeatureMatrix,
                                threshold: Double = copyThreshold) throws -> Double {
        guard queries.count > 0 else { return 0 }
        let pairs = try nearestTwo(queries: queries, references: references)
        return Double(pairs.filter { $0.isCopy(threshold: threshold) }.count) / Double(queries.count)
    }
}
