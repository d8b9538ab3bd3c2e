/// Metrics that compare the two sets point by point through k-nearest-neighbour balls:
/// improved precision and recall (Kynkaanniemi et al. 2019) and density and coverage
/// (Naeem et al. 2020). The ball of a point has its centre at the point and as radius the
/// distance to its k-th nearest neighbour in its own set (the point itself left out).
///
/// All distances are Euclidean, compared as squares (d <= r exactly when d^2 <= r^2), from
/// tiles of BLAS products (`PairwiseDistances`): each real-real and fake-fake pair once (for the
/// radii), then each fake-real pair once (for all four counts).
public enum ManifoldMetrics {
    /// Whether a point on the sphere of a ball is inside it.
    public enum Boundary: String, Codable, Sendable {
        /// distance <= radius: Kynkaanniemi et al. and torch-fidelity.
        case closed
        /// distance < radius: clovaai's prdc (its precision, recall, density and coverage).
        case open
    }

    public struct Scores: Codable, Sendable, Equatable {
        public var precision: Double
        public var recall: Double
        public var density: Double
        public var coverage: Double
    }

    /// All four at once, sharing the passes over pairs. The prdc README's setting is
    /// `precisionRecallK: 5, boundary: .open, densityCoverageK: 5`.
    public static func compute(real: FeatureMatrix, fake: FeatureMatrix, precisionRecallK: Int = 3,
                               boundary: Boundary = .closed, densityCoverageK: Int = 5) throws -> Scores {
        guard min(precisionRecallK, densityCoverageK) >= 1 else {
            throw MetricError.invalidArgument("k must be at least 1, got \(min(precisionRecallK, densityCoverageK))")
        }
        try check(real: real, fake: fake, realK: max(precisionRecallK, densityCoverageK), fakeK: precisionRecallK)
        let realK = max(precisionRecallK, densityCoverageK)
        let realNearest = NearestNeighbors.smallestSquaredDistances(in: real, k: realK)
        let fakeNearest = NearestNeighbors.smallestSquaredDistances(in: fake, k: precisionRecallK)
        let counts = crossScan(
            real: real, fake: fake,
            precisionBalls: balls(NearestNeighbors.squaredRadii(realNearest, stride: realK, k: precisionRecallK), boundary),
            recallBalls: balls(NearestNeighbors.squaredRadii(fakeNearest, stride: precisionRecallK, k: precisionRecallK), boundary),
            densityBalls: NearestNeighbors.squaredRadii(realNearest, stride: realK, k: densityCoverageK))
        return Scores(precision: Double(counts.precision) / Double(fake.count),
                      recall: Double(counts.recall) / Double(real.count),
                      density: Double(counts.density) / Double(densityCoverageK * fake.count),
                      coverage: Double(counts.coverage) / Double(real.count))
    }

    /// Throws unless k >= 1, the sets are finite and alike, and each has more than its k rows
    /// (`fakeK` 0: the fake balls are not needed, one fake suffices).
    static func check(real: FeatureMatrix, fake: FeatureMatrix, realK: Int, fakeK: Int) throws {
        guard realK >= 1, fakeK >= 0 else { throw MetricError.invalidArgument("k must be at least 1, got \(min(realK, fakeK))") }
        try checkSameDimension(real, fake, "real and generated features")
        try real.check("real features", atLeast: realK + 1)
        try fake.check("generated features", atLeast: fakeK + 1)
    }

    /// Squared radii as thresholds for a strict test: d^2 <= r^2 exactly when d^2 < nextUp(r^2).
    static func balls(_ squaredRadii: [Double], _ boundary: Boundary) -> [Double] {
        boundary == .open ? squaredRadii : squaredRadii.map(\.nextUp)
    }

    /// Counts over the fake-real distances (every test strict, against squared thresholds):
    /// `precision`: fakes inside some real's `precisionBalls` ball; `density`: pairs with the fake
    /// inside the real's `densityBalls` ball; `recall`: reals inside some fake's `recallBalls`
    /// ball; `coverage`: reals whose nearest fake is inside their `densityBalls` ball.
    static func crossScan(real: FeatureMatrix, fake: FeatureMatrix, precisionBalls: [Double],
                          recallBalls: [Double], densityBalls: [Double])
        -> (precision: Int, recall: Int, density: Int, coverage: Int) {
        let (nReal, nFake) = (real.count, fake.count)
        let workers = PairwiseDistances.workerCount(rows: nFake)
        // Per fake row (one worker a row): inside some real ball; number of real balls it is in.
        var fakeInside = [UInt8](repeating: 0, count: nFake)
        var fakeBallCount = [Int](repeating: 0, count: nFake)
        // Per worker and real column: inside some fake's ball; nearest fake so far.
        let realInside = (0..<workers).map { _ in UnsafeMutablePointer<UInt8>.allocate(capacity: nReal) }
        let realNearest = (0..<workers).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: nReal) }
        defer {
            realInside.forEach { $0.deallocate() }
            realNearest.forEach { $0.deallocate() }
        }
        for w in 0..<workers {
            realInside[w].initialize(repeating: 0, count: nReal)
            realNearest[w].initialize(repeating: .infinity, count: nReal)
        }
        fakeInside.withUnsafeMutableBufferPointer { fakeInside in
        fakeBallCount.withUnsafeMutableBufferPointer { fakeBallCount in
        precisionBalls.withUnsafeBufferPointer { precisionBalls in
        densityBalls.withUnsafeBufferPointer { densityBalls in
        recallBalls.withUnsafeBufferPointer { recallBalls in
            PairwiseDistances.scan(fake, real) { worker, tile in
                let c0 = tile.columns.lowerBound, n = tile.columns.count
                let pBalls = precisionBalls.baseAddress! + c0, dBalls = densityBalls.baseAddress! + c0
                let inside = realInside[worker] + c0, nearest = realNearest[worker] + c0
                for i in tile.rows {
                    let distances = tile.row(i), fakeBall = recallBalls[i]
                    var hit: UInt8 = 0
                    var count = 0
                    for j in 0..<n {
                        let d = distances[j]
                        hit |= d < pBalls[j] ? 1 : 0
                        count &+= d < dBalls[j] ? 1 : 0
                        inside[j] |= d < fakeBall ? 1 : 0
                        nearest[j] = min(nearest[j], d)
                    }
                    fakeInside[i] |= hit
                    fakeBallCount[i] += count
                }
            }
        }}}}}
        var recall = 0, coverage = 0
        for j in 0..<nReal {
            var inside: UInt8 = 0, nearest = Double.infinity
            for w in 0..<workers {
                inside |= realInside[w][j]
                nearest = min(nearest, realNearest[w][j])
            }
            recall += Int(inside)
            coverage += nearest < densityBalls[j] ? 1 : 0
        }
        return (fakeInside.reduce(0) { $0 + Int($1) }, recall, fakeBallCount.reduce(0, +), coverage)
    }
}
