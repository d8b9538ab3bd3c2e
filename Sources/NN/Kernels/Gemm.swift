import CBLAS

/// Row-major SGEMM on the calling thread: c (m x n) = alpha * op(a) * op(b) + beta * c, where
/// op(a) is m x k and op(b) is k x n; `lda`, `ldb`, `ldc` are the row strides as stored.
///
/// OpenBLAS is held to one thread: the kernels split their work across cores themselves, and a
/// multi-threaded BLAS inside them would oversubscribe the cores (its idle threads spin).
@inline(__always)
func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
           alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
           b: UnsafePointer<Float>, ldb: Int,
           beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    guard m > 0, n > 0 else { return }
    guard k > 0 else {
        // An empty product is zero; BLAS would leave c alone, which is only right for beta == 1.
        for row in 0..<m { for col in 0..<n { c[row * ldc + col] *= beta } }
        return
    }
    holdBLASToOneThread()
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// `sgemm` split over the cores by rows of c, for a single product large enough to share.
func parallelSgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                   alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                   b: UnsafePointer<Float>, ldb: Int,
                   beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    // Below about a million multiply-adds per core a second thread does not pay for itself.
    let rowsPerWorker = max(16, 1_000_000 / max(n * k, 1))
    parallelChunks(m, grain: rowsPerWorker) { rows in
        // Rows r of op(a): a + r * lda when stored as is, column r (a + r) when transposed.
        let aRows = transA ? a + rows.lowerBound : a + rows.lowerBound * lda
        sgemm(transA: transA, transB: transB, m: rows.count, n: n, k: k, alpha: alpha, a: aRows, lda: lda,
              b: b, ldb: ldb, beta: beta, c: c + rows.lowerBound * ldc, ldc: ldc)
    }
}
