extension ManifoldMetrics {
    /// Density and coverage (Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for
    /// Generative Models"), as clovaai's prdc computes them, with the real balls only (radius =
    /// distance to the k-th nearest real, self excluded; inside when distance < radius):
    /// density = (1 / k) * mean over fakes of the number of real balls holding the fake;
    /// coverage = fraction of reals whose nearest fake lies inside their ball.
    public static func densityCoverage(real: FeatureMatrix, fake: FeatureMatrix,
                                       k: Int = 5) throws -> (density: Double, coverage: Double) {
        try check(real: real, fake: fake, realK: k, fakeK: 0)
        let realBalls = NearestNeighbors.squaredRadii(
            NearestNeighbors.smallestSquaredDistances(in: real, k: k), stride: k, k: k)
        // Fake and precision balls of radius 0: their counts are not used.
        let counts = crossScan(real: real, fake: fake,
                               precisionBalls: [Double](repeating: 0, count: real.count),
                               recallBalls: [Double](repeating: 0, count: fake.count), densityBalls: realBalls)
        return (Double(counts.density) / Double(k * fake.count), Double(counts.coverage) / Double(real.count))
    }
}
