import CBLAS

/// The eigendecomposition of a real symmetric matrix by LAPACK's divide-and-conquer `dsyevd`.
struct SymmetricEigen {
    /// Eigenvalues in ascending order.
    let values: [Double]
    /// Row `j` (`vectors[j * n ..< (j + 1) * n]`) is the unit eigenvector of `values[j]`; empty
    /// when only the eigenvalues were asked for.
    let vectors: [Double]

    /// Decomposes the symmetric `n` x `n` matrix `matrix` (row-major; only its upper triangle, in
    /// row-major terms, is read).
    ///
    /// LAPACK is column-major: it sees the transpose, which for a symmetric matrix is the same
    /// matrix, reads its lower triangle (= our upper), and returns the eigenvectors as columns,
    /// which in our row-major view are rows.
    init(_ matrix: [Double], n: Int, vectors wantVectors: Bool) throws {
        precondition(matrix.count == n * n, "SymmetricEigen: \(matrix.count) numbers for \(n) x \(n)")
        guard n > 0 else {
            (values, vectors) = ([], [])
            return
        }
        var a = matrix
        var w = [Double](repeating: 0, count: n)
        var jobz = CChar(UInt8(ascii: wantVectors ? "V" : "N")), uplo = CChar(UInt8(ascii: "L"))
        var order = Int32(n), lda = Int32(n), info: Int32 = 0
        // Workspace query, then the decomposition.
        var workSize = 0.0, iworkSize: Int32 = 0, workQuery: Int32 = -1, iworkQuery: Int32 = -1
        dsyevd_(&jobz, &uplo, &order, &a, &lda, &w, &workSize, &workQuery, &iworkSize, &iworkQuery, &info)
        guard info == 0 else { throw MetricError.eigendecompositionFailed(Int(info)) }
        var lwork = Int32(workSize.rounded(.up)), liwork = max(iworkSize, 1)
        var work = [Double](repeating: 0, count: Int(max(lwork, 1)))
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_(&jobz, &uplo, &order, &a, &lda, &w, &work, &lwork, &iwork, &liwork, &info)
        guard info == 0 else { throw MetricError.eigendecompositionFailed(Int(info)) }
        values = w
        vectors = wantVectors ? a : []
    }
}
