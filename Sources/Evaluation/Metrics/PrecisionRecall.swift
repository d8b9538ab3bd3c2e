extension ManifoldMetrics {
    /// Improved precision and recall (Kynkaanniemi et al. 2019, "Improved Precision and Recall
    /// Metric for Assessing Generative Models"), as torch-fidelity computes them:
    /// precision = fraction of fakes inside the ball of some real, recall = fraction of reals
    /// inside the ball of some fake; radius = distance to the k-th nearest neighbour in the
    /// point's own set, self excluded; inside when distance <= radius (`.closed`).
    /// `boundary: .open` with `k: 5` gives prdc's precision and recall instead.
    public static func precisionRecall(real: FeatureMatrix, fake: FeatureMatrix, k: Int = 3,
                                       boundary: Boundary = .closed) throws -> (precision: Double, recall: Double) {
        try check(real: real, fake: fake, realK: k, fakeK: k)
        let realBalls = balls(NearestNeighbors.squaredRadii(
            NearestNeighbors.smallestSquaredDistances(in: real, k: k), stride: k, k: k), boundary)
        let fakeBalls = balls(NearestNeighbors.squaredRadii(
            NearestNeighbors.smallestSquaredDistances(in: fake, k: k), stride: k, k: k), boundary)
        // Density balls of radius 0: nothing is strictly inside; those counts are not used.
        let counts = crossScan(real: real, fake: fake, precisionBalls: realBalls, recallBalls: fakeBalls,
                               densityBalls: [Double](repeating: 0, count: real.count))
        return (Double(counts.precision) / Double(fake.count), Double(counts.recall) / Double(real.count))
    }
}
