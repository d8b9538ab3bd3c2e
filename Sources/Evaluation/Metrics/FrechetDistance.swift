import CBLAS
import NN

/// The Frechet distance between two Gaussians fitted to features (FID when the features are
/// Inception's), as pytorch-fid's `calculate_frechet_distance` defines it:
///
///     d^2 = |mu1 - mu2|^2 + tr(s1) + tr(s2) - 2 tr(sqrtm(s1 s2))
///
/// pytorch-fid takes sqrtm(s1 s2) with scipy's Schur-based `sqrtm` and keeps the trace. Here the
/// trace comes from symmetric eigendecompositions (LAPACK dsyevd), which never leave the real
/// numbers:
///
/// 1. s1 = V L V^T; eigenvalues within rounding of zero (down to -1.5e-8 times the largest) are
///    set to 0, and W = V L^(1/2), so that sqrt(s1) = V L^(1/2) V^T and sqrt(s1) V = W.
/// 2. M = W^T s2 W = V^T (sqrt(s1) s2 sqrt(s1)) V: the same eigenvalues as sqrt(s1) s2 sqrt(s1),
///    and so as s1 s2 (AB and BA share their eigenvalues), all real and >= 0 for covariances.
///    Columns of W for zero eigenvalues are left out: they only add zero eigenvalues to M.
/// 3. tr(sqrtm(s1 s2)) = sum of sqrt(mu_i) over M's eigenvalues mu_i, where negative values
///    within rounding of zero (down to -1.5e-8 times the largest) count as 0 (scipy's principal root of a tiny negative eigenvalue is imaginary, and
///    pytorch-fid drops the imaginary part: the same 0).
///
/// Agreement with pytorch-fid: for covariances (positive semidefinite) the two routes compute
/// the same number and differ only by rounding (about 1e-14 relative in the tests), most
/// visibly for singular covariances (N <= D): there scipy meets each zero eigenvalue of s1 s2 as
/// about +-1e-15 and adds sqrt(1e-15) = 3e-8 to the trace for each positive one (3.5e-7 in all
/// for N = 20, D = 32 in the tests), where this route, which leaves out s1's null space, adds
/// next to nothing.
///
/// The eps fallback: pytorch-fid adds eps = 1e-6 to both diagonals when scipy's sqrtm returns
/// non-finite numbers ("fid calculation produces singular product"), and then uses
/// tr(s1) + tr(s2) of the *unshifted* covariances with tr(sqrtm((s1 + eps I)(s2 + eps I))).
/// The eigen route has no such failure for singular products (nor, in the fixture script's
/// singular cases, does SciPy 1.17's recursive sqrtm: pytorch-fid does not fall back there). It takes the same fallback, with the same formula, where it meets the
/// numerical trouble the fallback exists for: when dsyevd does not converge or when s1 or the
/// product has an eigenvalue clearly below zero (a covariance that is not positive semidefinite,
/// e.g. statistics damaged or saved in low precision). If the shifted matrices fail too, it
/// throws.
public enum FrechetDistance {
    /// pytorch-fid's diagonal offset for the fallback.
    public static let epsilon = 1e-6
    /// Eigenvalues above -negativeTolerance * (largest magnitude) count as zero.
    static let negativeTolerance = 1.5e-8

    public static func compute(_ a: FeatureStatistics, _ b: FeatureStatistics) throws -> Double {
        try compute(a, b, shifted: false)
    }

    /// As `compute`; `shifted: true` takes the eps route at once (for tests of that route).
    static func compute(_ a: FeatureStatistics, _ b: FeatureStatistics, shifted: Bool) throws -> Double {
        let d = a.dimension
        guard b.dimension == d else { throw MetricError.dimensionMismatch("Frechet distance", d, b.dimension) }
        guard a.covariance.count == d * d, b.covariance.count == d * d else {
            throw MetricError.invalidArgument("Frechet distance: a covariance is not \(d) x \(d)")
        }
        var meanTerm = 0.0, trace1 = 0.0, trace2 = 0.0
        for i in 0..<d {
            let difference = a.mean[i] - b.mean[i]
            meanTerm += difference * difference
            trace1 += a.covariance[i * d + i]
            trace2 += b.covariance[i * d + i]
        }
        let traceOfRoot: Double
        if shifted {
            traceOfRoot = try traceOfSquareRoot(shift(a.covariance, d), shift(b.covariance, d), d)
        } else {
            do {
                traceOfRoot = try traceOfSquareRoot(a.covariance, b.covariance, d)
            } catch MetricError.eigendecompositionFailed, MetricError.notPositiveSemidefinite {
                traceOfRoot = try traceOfSquareRoot(shift(a.covariance, d), shift(b.covariance, d), d)
            }
        }
        return meanTerm + trace1 + trace2 - 2 * traceOfRoot
    }

    /// s + eps I.
    static func shift(_ s: [Double], _ d: Int) -> [Double] {
        var out = s
        for i in 0..<d { out[i * d + i] += epsilon }
        return out
    }

    /// tr(sqrtm(s1 s2)) by the symmetric route above; throws for clearly negative eigenvalues.
    static func traceOfSquareRoot(_ s1: [Double], _ s2: [Double], _ d: Int) throws -> Double {
        guard d > 0 else { return 0 }
        holdBLASToOneThread()
        // 1. s1 = V L V^T. Row j of U = sqrt(L_j) v_j^T, for the eigenvalues that are not zero:
        //    U = W^T with the zero columns of W left out (they add only zero eigenvalues to M).
        let eigen1 = try SymmetricEigen(s1, n: d, vectors: true)
        let largest1 = eigen1.values.map(abs).max() ?? 0
        if let smallest = eigen1.values.first, smallest < -negativeTolerance * largest1 {
            throw MetricError.notPositiveSemidefinite("first covariance", smallestEigenvalue: smallest)
        }
        let kept = eigen1.values.indices.filter { eigen1.values[$0] > 0 }
        let r = kept.count
        guard r > 0 else { return 0 }
        var u = [Double](repeating: 0, count: r * d)
        for (row, j) in kept.enumerated() {
            let scale = eigen1.values[j].squareRoot()
            for k in 0..<d { u[row * d + k] = scale * eigen1.vectors[j * d + k] }
        }
        // 2. M = U s2 U^T (r x r).
        var t = [Double](repeating: 0, count: r * d)
        var m = [Double](repeating: 0, count: r * r)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(r), Int32(d), Int32(d),
                    1, u, Int32(d), s2, Int32(d), 0, &t, Int32(d))
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(r), Int32(r), Int32(d),
                    1, t, Int32(d), u, Int32(d), 0, &m, Int32(r))
        // 3. The eigenvalues of M, and the sum of their square roots.
        let mu = try SymmetricEigen(m, n: r, vectors: false).values
        let largest = mu.map(abs).max() ?? 0
        if let smallest = mu.first, smallest < -negativeTolerance * largest {
            throw MetricError.notPositiveSemidefinite("product of the covariances", smallestEigenvalue: smallest)
        }
        return mu.reduce(0) { $0 + max($1, 0).squareRoot() }
    }
}
