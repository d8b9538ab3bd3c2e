import CBLAS
import NN

/// The mean and covariance of a set of features, in Float64: what FID compares.
///
/// `covariance` is the unbiased estimate (divided by N - 1), as `np.cov(features, rowvar=False)`
/// which pytorch-fid uses, stored as a full symmetric D x D matrix. Statistics of a large real set
/// can be saved (Codable) and reused.
public struct FeatureStatistics: Codable, Sendable, Equatable {
    public let count: Int
    public let mean: [Double]
    public let covariance: [Double]

    public var dimension: Int { mean.count }

    /// Statistics given directly (e.g. read from another tool's mu and sigma).
    public init(count: Int, mean: [Double], covariance: [Double]) throws {
        guard count >= 2 else { throw MetricError.tooFewSamples("feature statistics", needed: 2, got: count) }
        guard covariance.count == mean.count * mean.count else {
            throw MetricError.invalidArgument(
                "feature statistics: a covariance of \(covariance.count) numbers does not fit a mean of \(mean.count)")
        }
        guard (mean + covariance).allSatisfy(\.isFinite) else {
            throw MetricError.nonFiniteValue("feature statistics")
        }
        self.count = count
        self.mean = mean
        self.covariance = covariance
    }

    /// The statistics of `features`: the mean of the rows, then the centred cross-products
    /// accumulated block by block with dsyrk (both cores, one partial sum each), divided by N - 1.
    public init(_ features: FeatureMatrix) throws {
        try features.check("features for statistics", atLeast: 2)
        let (n, d) = (features.count, features.dimension)
        var mean = [Double](repeating: 0, count: d)
        features.values.withUnsafeBufferPointer { x in
            for i in 0..<n { for j in 0..<d { mean[j] += x[i * d + j] } }
        }
        for j in 0..<d { mean[j] /= Double(n) }

        // Each worker sums a fixed, contiguous share of the rows in blocks of 512 (so the result
        // does not depend on thread timing); the partial sums are added in order at the end.
        let rowBlock = 512
        let workers = workerCount((n + rowBlock - 1) / rowBlock, grain: 1)
        let partials = (0..<workers).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: d * d) }
        let scratch = (0..<workers).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: rowBlock * d) }
        defer { (partials + scratch).forEach { $0.deallocate() } }
        partials.forEach { $0.initialize(repeating: 0, count: d * d) }
        features.values.withUnsafeBufferPointer { x in
            mean.withUnsafeBufferPointer { mu in
                parallelBlocks(workers) { _, share in
                    let centred = scratch[share]
                    var start = n * share / workers
                    let end = n * (share + 1) / workers
                    while start < end && d > 0 {
                        let rows = min(rowBlock, end - start)
                        for i in 0..<rows { for j in 0..<d { centred[i * d + j] = x[(start + i) * d + j] - mu[j] } }
                        // Upper triangle of C += centred^T centred (C is d x d).
                        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(rows),
                                    1, centred, Int32(d), 1, partials[share], Int32(d))
                        start += rows
                    }
                }
            }
        }
        var covariance = [Double](repeating: 0, count: d * d)
        let scale = 1 / Double(n - 1)
        for i in 0..<d {
            for j in i..<d {
                var sum = 0.0
                for partial in partials { sum += partial[i * d + j] }
                covariance[i * d + j] = sum * scale
                covariance[j * d + i] = sum * scale
            }
        }
        self.count = n
        self.mean = mean
        self.covariance = covariance
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(count: container.decode(Int.self, forKey: .count),
                      mean: container.decode([Double].self, forKey: .mean),
                      covariance: container.decode([Double].self, forKey: .covariance))
    }

    private enum CodingKeys: String, CodingKey { case count, mean, covariance }
}
