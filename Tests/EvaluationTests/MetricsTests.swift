import Foundation
import NN
import XCTest
@testable import Evaluation

/// The metrics against numbers from pytorch-fid, clean-fid, torch-fidelity and prdc
/// (Tests/Fixtures/make_metrics_fixtures.py says which function made which number).
final class MetricsTests: XCTestCase {
    typealias F = MetricsFixtures

    // MARK: Statistics and FID

    func testStatisticsMatchNumPy() throws {
        let statistics = try FeatureStatistics(F.features("shifted_real"))
        XCTAssertEqual(statistics.count, 300)
        for (a, b) in zip(statistics.mean, try F.numbers("shifted_real_mean")) {
            assertMetricClose(a, b, absolute: 1e-14, "mean")
        }
        let covariance = try F.numbers("shifted_real_covariance")
        XCTAssertEqual(statistics.covariance.count, covariance.count)
        for (a, b) in zip(statistics.covariance, covariance) { assertMetricClose(a, b, absolute: 1e-14, "covariance") }
        // Codable round trip.
        let decoded = try JSONDecoder().decode(FeatureStatistics.self, from: JSONEncoder().encode(statistics))
        XCTAssertEqual(decoded, statistics)
        XCTAssertThrowsError(try JSONDecoder().decode(
            FeatureStatistics.self, from: Data(#"{"count": 5, "mean": [1, 2], "covariance": [1]}"#.utf8)))
    }

    func fid(_ real: String, _ fake: String) throws -> Double {
        try FrechetDistance.compute(FeatureStatistics(F.features(real)), FeatureStatistics(F.features(fake)))
    }

    func testFrechetDistanceMatchesPytorchFID() throws {
        assertMetricClose(try fid("shifted_real", "shifted_fake"), F.number("shifted.fid"), relative: 1e-12, "shifted")
        // N < D: singular covariances. scipy's sqrtm sees the 13 zero eigenvalues of s1 s2 as
        // about +-1e-15 and adds sqrt(1e-15) = 3e-8 for each positive one to its trace.
        assertMetricClose(try fid("singular_real", "singular_fake"), F.number("singular.fid"), absolute: 1e-6, "singular")
    }

    func testFrechetDistanceNearZero() throws {
        assertMetricClose(try fid("shifted_real", "near_fake"), F.number("near.fid"), absolute: 1e-12, "near")
        // Identical singular sets: 0 up to the noise of the zero eigenvalues (pytorch-fid: -3.8e-7).
        assertMetricClose(try fid("singular_real", "singular_real"), F.number("same.fid"), absolute: 1e-6, "same")
        assertMetricClose(try fid("singular_real", "singular_real"), 0, absolute: 1e-6, "same")
    }

    func testFrechetDistanceFallbackMatchesPytorchFIDsEpsBranch() throws {
        let a = try FeatureStatistics(count: 100, mean: F.numbers("fallback_mean1"), covariance: F.numbers("fallback_covariance1"))
        let b = try FeatureStatistics(count: 100, mean: F.numbers("fallback_mean2"), covariance: F.numbers("fallback_covariance2"))
        // b's covariance has an eigenvalue of -5e-7: the plain route throws, compute falls back.
        XCTAssertThrowsError(try FrechetDistance.traceOfSquareRoot(a.covariance, b.covariance, 8))
        assertMetricClose(try FrechetDistance.compute(a, b), F.number("fallback.fid"), relative: 1e-12, "fallback")
        // The shifted route moves an ordinary FID by about eps D only.
        let real = try FeatureStatistics(F.features("shifted_real")), fake = try FeatureStatistics(F.features("shifted_fake"))
        assertMetricClose(try FrechetDistance.compute(real, fake, shifted: true), F.number("shifted.fid"), absolute: 1e-4)
        // A covariance far from positive semidefinite is an error, not a number.
        var bad = b.covariance
        for i in 0..<8 { bad[i * 8 + i] -= 1 }
        let worse = try FeatureStatistics(count: 100, mean: b.mean, covariance: bad)
        XCTAssertThrowsError(try FrechetDistance.compute(a, worse)) { error in
            guard case MetricError.notPositiveSemidefinite = error else { return XCTFail("\(error)") }
        }
    }

    func testFrechetDistanceErrors() throws {
        let a = try FeatureStatistics(F.features("shifted_real")), b = try FeatureStatistics(F.features("singular_real"))
        XCTAssertThrowsError(try FrechetDistance.compute(a, b)) { error in
            XCTAssertEqual(error as? MetricError, .dimensionMismatch("Frechet distance", 16, 32))
        }
        XCTAssertThrowsError(try FeatureStatistics(FeatureMatrix(count: 1, dimension: 2, values: [1, 2])))
        XCTAssertThrowsError(try FeatureStatistics(FeatureMatrix(count: 2, dimension: 1, values: [1, .nan])))
        XCTAssertThrowsError(try FeatureStatistics(count: 3, mean: [0, 0], covariance: [1, 0, 0]))
        // Zero covariances on both sides: the distance of the means.
        let zero1 = try FeatureStatistics(count: 2, mean: [0, 0], covariance: [0, 0, 0, 0])
        let zero2 = try FeatureStatistics(count: 2, mean: [3, 4], covariance: [0, 0, 0, 0])
        XCTAssertEqual(try FrechetDistance.compute(zero1, zero2), 25)
    }

    // MARK: KID

    func testKernelDistanceMatchesCleanFID() throws {
        let real = try F.features("shifted_real")
        let realSubsets = try F.indexRows("shifted_kid_real_indices"), fakeSubsets = try F.indexRows("shifted_kid_fake_indices")
        for (name, fakeName) in [("shifted", "shifted_fake"), ("near", "near_fake")] {
            let result = try KernelDistance.compute(real: real, fake: F.features(fakeName),
                                                    realSubsets: realSubsets, fakeSubsets: fakeSubsets)
            assertMetricClose(result.kid, F.number("\(name).kid"), relative: 1e-12, "\(name) KID")
            assertMetricClose(result.std, F.number("\(name).kid_std"), relative: 1e-12, "\(name) KID std")
            for (a, b) in zip(result.values, F.array("\(name).kid_values")) {
                assertMetricClose(a, b, relative: 1e-12, absolute: 1e-14, "\(name) subset")
            }
        }
    }

    func testKernelDistanceSubsetsAreSeeded() throws {
        let real = try F.features("shifted_real"), fake = try F.features("shifted_fake")
        let a = try KernelDistance.compute(real: real, fake: fake, subsets: 8, subsetSize: 50, seed: 7)
        let b = try KernelDistance.compute(real: real, fake: fake, subsets: 8, subsetSize: 50, seed: 7)
        let c = try KernelDistance.compute(real: real, fake: fake, subsets: 8, subsetSize: 50, seed: 8)
        XCTAssertEqual(a.kid, b.kid)
        XCTAssertEqual(a.std, b.std)
        XCTAssertNotEqual(a.kid, c.kid)
        XCTAssertEqual(a.kid, F.number("shifted.kid"), accuracy: 0.5)
        for subset in 0..<20 {
            let indices = KernelDistance.subsetIndices(population: 256, size: 100, subset: subset, set: 1, Philox(seed: 3))
            XCTAssertEqual(Set(indices).count, 100)
            XCTAssert(indices.allSatisfy { (0..<256).contains($0) })
        }
        // Every index is drawn about equally often.
        var hits = [Int](repeating: 0, count: 10)
        for subset in 0..<2000 {
            for i in KernelDistance.subsetIndices(population: 10, size: 3, subset: subset, set: 0, Philox(seed: 0)) { hits[i] += 1 }
        }
        XCTAssert(hits.allSatisfy { abs($0 - 600) < 100 }, "\(hits)")
        // m = min(N_real, N_fake, subsetSize): with two sets of 256, every subset is a whole set.
        let whole = try KernelDistance.compute(real: real.rows(Array(0..<256)), fake: fake, subsets: 3, subsetSize: 5000)
        XCTAssertEqual(whole.std, 0, accuracy: 1e-12 * whole.kid)
        XCTAssertThrowsError(try KernelDistance.compute(real: real, fake: F.features("singular_real")))
        XCTAssertThrowsError(try KernelDistance.compute(real: real, fake: fake, subsets: 0))
        XCTAssertThrowsError(try KernelDistance.compute(real: real, fake: fake, subsetSize: 1))
    }

    // MARK: Precision, recall, density, coverage

    func checkManifold(_ name: String, real: FeatureMatrix, fake: FeatureMatrix,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let (nReal, nFake) = (real.count, fake.count)
        // torch-fidelity: k = 3, <=.
        let closed = try ManifoldMetrics.precisionRecall(real: real, fake: fake)
        assertSameCount(closed.precision, F.number("\(name).pr_k3_closed.precision"), of: nFake, "\(name) precision", file: file, line: line)
        assertSameCount(closed.recall, F.number("\(name).pr_k3_closed.recall"), of: nReal, "\(name) recall", file: file, line: line)
        // prdc: strict <, k = 5 (and k = 3 where the fixture has it).
        for k in [3, 5] where (F.expected[name] as! [String: Any])["prdc_k\(k)"] != nil {
            let pr = try ManifoldMetrics.precisionRecall(real: real, fake: fake, k: k, boundary: .open)
            let dc = try ManifoldMetrics.densityCoverage(real: real, fake: fake, k: k)
            let all = try ManifoldMetrics.compute(real: real, fake: fake, precisionRecallK: k, boundary: .open, densityCoverageK: k)
            XCTAssertEqual(all, .init(precision: pr.precision, recall: pr.recall, density: dc.density, coverage: dc.coverage),
                           file: file, line: line)
            let key = "\(name).prdc_k\(k)"
            assertSameCount(pr.precision, F.number("\(key).precision"), of: nFake, "\(key) precision", file: file, line: line)
            assertSameCount(pr.recall, F.number("\(key).recall"), of: nReal, "\(key) recall", file: file, line: line)
            assertSameCount(dc.density, F.number("\(key).density"), of: k * nFake, "\(key) density", file: file, line: line)
            assertSameCount(dc.coverage, F.number("\(key).coverage"), of: nReal, "\(key) coverage", file: file, line: line)
        }
        // The default combination: torch-fidelity's P/R and prdc's D/C in one pass.
        let scores = try ManifoldMetrics.compute(real: real, fake: fake)
        XCTAssertEqual(scores.precision, closed.precision, file: file, line: line)
        XCTAssertEqual(scores.recall, closed.recall, file: file, line: line)
        let dc5 = try ManifoldMetrics.densityCoverage(real: real, fake: fake)
        XCTAssertEqual(scores.density, dc5.density, file: file, line: line)
        XCTAssertEqual(scores.coverage, dc5.coverage, file: file, line: line)
    }

    func testManifoldMetricsMatchTorchFidelityAndPRDC() throws {
        try checkManifold("shifted", real: F.features("shifted_real"), fake: F.features("shifted_fake"))
    }

    /// Integer points with duplicates: distances equal radii exactly, so <= and < differ.
    func testManifoldMetricsWithTies() throws {
        let real = try F.features("ties_real"), fake = try F.features("ties_fake")
        try checkManifold("ties", real: real, fake: fake)
        let closed = try ManifoldMetrics.precisionRecall(real: real, fake: fake, k: 3, boundary: .closed)
        let open = try ManifoldMetrics.precisionRecall(real: real, fake: fake, k: 3, boundary: .open)
        XCTAssertNotEqual(closed.precision, open.precision)
    }

    /// 2000 + 2000 Philox features in 64 dimensions, made here and by the fixture script alike.
    func testManifoldMetricsOnGaussianSets() throws {
        let count = Int(F.number("gauss.count")), dimension = Int(F.number("gauss.dimension"))
        let real = F.philoxFeatures(seed: 1, count: count, dimension: dimension)
        let fake = F.philoxFeatures(seed: 2, count: count, dimension: dimension)
        XCTAssertEqual(Array(real.values[0..<4]), F.array("gauss.first_values"))
        try checkManifold("gauss", real: real, fake: fake)
    }

    func testManifoldMetricsErrors() throws {
        let real = try F.features("ties_real"), fake = try F.features("ties_fake")
        XCTAssertThrowsError(try ManifoldMetrics.precisionRecall(real: real, fake: fake, k: 0))
        XCTAssertThrowsError(try ManifoldMetrics.precisionRecall(real: real.rows([0, 1, 2]), fake: fake))
        XCTAssertThrowsError(try ManifoldMetrics.densityCoverage(real: real, fake: F.features("shifted_fake")))
        XCTAssertThrowsError(try ManifoldMetrics.compute(real: real, fake: fake, densityCoverageK: 0))
        var values = fake.values
        values[4] = .infinity
        XCTAssertThrowsError(try ManifoldMetrics.densityCoverage(
            real: real, fake: FeatureMatrix(count: fake.count, dimension: 3, values: values))) { error in
            XCTAssertEqual(error as? MetricError, .nonFiniteValue("generated features"))
        }
        // One fake is enough for density and coverage.
        XCTAssertNoThrow(try ManifoldMetrics.densityCoverage(real: real, fake: fake.rows([0])))
    }

    // MARK: Inception score, memorization

    func testInceptionScoreMatchesTorchFidelity() throws {
        let probabilities = try F.features("isc_probabilities")
        for splits in [10, 3] {
            let score = try InceptionScore.compute(probabilities: probabilities, splits: splits)
            assertMetricClose(score.mean, F.number("isc.splits\(splits).mean"), relative: 1e-12, "IS mean")
            assertMetricClose(score.std, F.number("isc.splits\(splits).std"), relative: 1e-12, "IS std")
        }
        // One-hot rows spread evenly over K classes: the score is K, whatever the zeros.
        let oneHot = FeatureMatrix(count: 8, dimension: 4, values: (0..<32).map { $0 % 4 == ($0 / 4) % 4 ? 1 : 0 })
        let perfect = try InceptionScore.compute(probabilities: oneHot, splits: 2)
        XCTAssertEqual(perfect.mean, 4, accuracy: 1e-12)
        XCTAssertEqual(perfect.std, 0, accuracy: 1e-12)
        XCTAssertThrowsError(try InceptionScore.compute(probabilities: probabilities.rows([0, 1]), splits: 3))
        XCTAssertThrowsError(try InceptionScore.compute(probabilities: probabilities, splits: 0))
    }

    func testMemorizationNearestTwo() throws {
        let queries = try F.features("memo_queries"), references = try F.features("memo_references")
        let pairs = try Memorization.nearestTwo(queries: queries, references: references)
        XCTAssertEqual(pairs.map(\.first), F.array("memo.first").map { Int($0) })
        XCTAssertEqual(pairs.map(\.second), F.array("memo.second").map { Int($0) })
        for (pair, (d1, d2)) in zip(pairs, zip(F.array("memo.first_distance"), F.array("memo.second_distance"))) {
            assertMetricClose(pair.firstDistance, d1, relative: 1e-13, "first distance")
            assertMetricClose(pair.secondDistance, d2, relative: 1e-13, "second distance")
        }
        // Exact copies: distance 0 exactly.
        XCTAssertEqual(pairs[10].firstDistance, 0)
        XCTAssertEqual(try Memorization.copyRate(queries: queries, references: references), F.number("memo.copy_rate"))
        // The scale of the pixels changes no decision.
        XCTAssertEqual(try Memorization.copyRate(queries: queries.scaled(by: 1 / 48.0.squareRoot()),
                                                 references: references.scaled(by: 1 / 48.0.squareRoot())),
                       F.number("memo.copy_rate"))
        XCTAssertThrowsError(try Memorization.nearestTwo(queries: queries, references: references.rows([0])))
    }

    /// The tiled, two-core k-nearest search (upper triangle, per-worker column lists, merge)
    /// against a direct one, on sizes that cut tiles and blocks unevenly.
    func testNearestNeighboursMatchBruteForce() throws {
        let set = F.philoxFeatures(seed: 9, count: 601, dimension: 5)
        let k = 4
        let nearest = NearestNeighbors.smallestSquaredDistances(in: set, k: k)
        for i in stride(from: 0, to: 601, by: 7) {
            var distances = [Double]()
            for j in 0..<601 where j != i {
                distances.append(zip(set.row(i), set.row(j)).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) })
            }
            distances.sort()
            for r in 0..<k { assertMetricClose(nearest[i * k + r], distances[r], relative: 1e-12, "row \(i) rank \(r)") }
        }
    }

    // MARK: Feature matrices

    func testFeatureMatrixFromTensor() throws {
        let tensor = Tensor(shape: [2, 3, 2], (0..<12).map(Float.init))
        let matrix = FeatureMatrix(tensor)
        XCTAssertEqual(matrix.count, 2)
        XCTAssertEqual(matrix.dimension, 6)
        XCTAssertEqual(Array(matrix.row(1)), [6, 7, 8, 9, 10, 11])
        XCTAssertEqual(matrix.rows([1, 0]).values, [6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5])
        XCTAssertThrowsError(try FeatureMatrix(NpyArray(shape: [4], data: .float32([1, 2, 3, 4]))))
    }
}
