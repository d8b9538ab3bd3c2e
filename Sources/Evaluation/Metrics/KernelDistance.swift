import CBLAS
import NN

/// Kernel distance (KID when the features are Inception's; Binkowski et al. 2018), as clean-fid's
/// `kernel_distance` defines it: the unbiased estimate of the squared MMD with the polynomial
/// kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets.
///
/// m = min(N_real, N_fake, subsetSize); for each of `subsets` subsets, m reals X and m fakes Y
/// drawn without replacement, and
///
///     t_s = (sum(K_XX) - tr(K_XX) + sum(K_YY) - tr(K_YY)) / (m - 1) - 2 sum(K_XY) / m
///     value_s = t_s / m       (torch-fidelity's `mmd2(..., mmd_est="unbiased")`)
///
/// kid = mean of value_s (clean-fid: t / subsets / m); std = their standard deviation with
/// ddof = 0 (`np.std`, as torch-fidelity's `kernel_inception_distance_std`).
///
/// Subsets come from NN's counter-based Philox generator, so a result depends only on the
/// inputs and the seed (not on thread timing); it cannot equal clean-fid's, which draws with
/// NumPy's global generator.
public enum KernelDistance {
    public static func compute(real: FeatureMatrix, fake: FeatureMatrix, subsets: Int = 100,
                               subsetSize: Int = 1000, seed: UInt64 = 0) throws -> (kid: Double, std: Double) {
        try checkInputs(real: real, fake: fake)
        guard subsets >= 1 else { throw MetricError.invalidArgument("KID needs at least one subset, got \(subsets)") }
        let m = min(real.count, fake.count, subsetSize)
        guard m >= 2 else { throw MetricError.tooFewSamples("KID subsets", needed: 2, got: m) }
        let generator = Philox(seed: seed)
        let realSubsets = (0..<subsets).map { subsetIndices(population: real.count, size: m, subset: $0, set: 0, generator) }
        let fakeSubsets = (0..<subsets).map { subsetIndices(population: fake.count, size: m, subset: $0, set: 1, generator) }
        let result = try compute(real: real, fake: fake, realSubsets: realSubsets, fakeSubsets: fakeSubsets)
        return (result.kid, result.std)
    }

    /// The same from given subsets (row indices, each list of the same length m >= 2): also
    /// returns the per-subset values.
    static func compute(real: FeatureMatrix, fake: FeatureMatrix, realSubsets: [[Int]],
                        fakeSubsets: [[Int]]) throws -> (kid: Double, std: Double, values: [Double]) {
        try checkInputs(real: real, fake: fake)
        let m = realSubsets.first?.count ?? 0
        guard !realSubsets.isEmpty, realSubsets.count == fakeSubsets.count, m >= 2,
              (realSubsets + fakeSubsets).allSatisfy({ $0.count == m }),
              realSubsets.allSatisfy({ $0.allSatisfy { (0..<real.count).contains($0) } }),
              fakeSubsets.allSatisfy({ $0.allSatisfy { (0..<fake.count).contains($0) } }) else {
            throw MetricError.invalidArgument("KID: subsets must be equally long (at least 2) lists of row indices")
        }
        let d = real.dimension
        let workers = workerCount(realSubsets.count, grain: 1)
        // Per worker: the gathered rows of X and Y, and one m x m kernel matrix.
        let rows = (0..<workers).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: 2 * m * max(d, 1)) }
        let kernels = (0..<workers).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: m * m) }
        defer { (rows + kernels).forEach { $0.deallocate() } }
        var values = [Double](repeating: 0, count: realSubsets.count)
        values.withUnsafeMutableBufferPointer { values in
            real.values.withUnsafeBufferPointer { realValues in
                fake.values.withUnsafeBufferPointer { fakeValues in
                    parallelBlocks(realSubsets.count) { worker, s in
                        let x = rows[worker], y = rows[worker] + m * d
                        for (r, i) in realSubsets[s].enumerated() {
                            (x + r * d).update(from: realValues.baseAddress! + i * d, count: d)
                        }
                        for (r, i) in fakeSubsets[s].enumerated() {
                            (y + r * d).update(from: fakeValues.baseAddress! + i * d, count: d)
                        }
                        let k = kernels[worker]
                        let sumXX = offDiagonalKernelSum(x, m: m, d: d, scratch: k)
                        let sumYY = offDiagonalKernelSum(y, m: m, d: d, scratch: k)
                        let sumXY = crossKernelSum(x, y, m: m, d: d, scratch: k)
                        let t = (sumXX + sumYY) / Double(m - 1) - 2 * sumXY / Double(m)
                        values[s] = t / Double(m)
                    }
                }
            }
        }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        return (mean, variance.squareRoot(), values)
    }

    static func checkInputs(real: FeatureMatrix, fake: FeatureMatrix) throws {
        try checkSameDimension(real, fake, "real and generated features")
        try real.checkFinite("real features")
        try fake.checkFinite("generated features")
    }

    /// sum over i != j of (x_i.x_j / d + 1)^3 for the m rows of `x` (upper triangle by dsyrk,
    /// doubled).
    static func offDiagonalKernelSum(_ x: UnsafePointer<Double>, m: Int, d: Int,
                                     scratch k: UnsafeMutablePointer<Double>) -> Double {
        if d > 0 {
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(m), Int32(d),
                        1 / Double(d), x, Int32(d), 0, k, Int32(m))
        } else {
            k.initialize(repeating: 0, count: m * m)
        }
        var sum = 0.0
        for i in 0..<m { sum += cubedSum(k + i * m + i + 1, count: m - i - 1) }
        return 2 * sum
    }

    /// sum over all i, j of (x_i.y_j / d + 1)^3.
    static func crossKernelSum(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, m: Int, d: Int,
                               scratch k: UnsafeMutablePointer<Double>) -> Double {
        if d > 0 {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(m), Int32(d),
                        1 / Double(d), x, Int32(d), y, Int32(d), 0, k, Int32(m))
        } else {
            k.initialize(repeating: 0, count: m * m)
        }
        var sum = 0.0
        for i in 0..<m { sum += cubedSum(k + i * m, count: m) }
        return sum
    }

    /// sum of (v + 1)^3 over `count` values, four running sums.
    @inline(__always)
    static func cubedSum(_ v: UnsafePointer<Double>, count: Int) -> Double {
        var s = SIMD4<Double>(repeating: 0)
        var j = 0
        while j + 4 <= count {
            let a = SIMD4(v[j], v[j + 1], v[j + 2], v[j + 3]) + 1
            s += a * a * a
            j += 4
        }
        var sum = s.sum()
        while j < count {
            let a = v[j] + 1
            sum += a * a * a
            j += 1
        }
        return sum
    }

    /// `size` distinct indices of `0 ..< population`: the first `size` steps of a Fisher-Yates
    /// shuffle whose step i draws uniformly from `i ..< population` with Philox block
    /// (subset << 33 | set << 32 | i) (`set` 0 for reals, 1 for fakes): 64 random bits scaled
    /// to the range by a multiply-high (bias below population / 2^64).
    static func subsetIndices(population: Int, size: Int, subset: Int, set: UInt64, _ generator: Philox) -> [Int] {
        precondition(size <= population && population < 1 << 32 && subset < 1 << 31)
        var pool = Array(0..<population)
        for i in 0..<size {
            let words = generator.block(UInt64(subset) << 33 | set << 32 | UInt64(i))
            let bits = UInt64(words[0]) << 32 | UInt64(words[1])
            let j = i + Int(bits.multipliedFullWidth(by: UInt64(population - i)).high)
            pool.swapAt(i, j)
        }
        return Array(pool[0..<size])
    }
}
