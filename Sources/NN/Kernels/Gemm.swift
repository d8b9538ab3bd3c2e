import CBLAS

/// Row-major SGEMM: c (m x n) = alpha * op(a) * op(b) + beta * c, where op(a) is m x k and op(b)
/// is k x n; `lda`, `ldb`, `ldc` are the row strides of a, b, c as stored.
@inline(__always)
func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
           alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
           b: UnsafePointer<Float>, ldb: Int,
           beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    guard m > 0, n > 0 else { return }
    guard k > 0 else {
        // BLAS leaves c untouched only when beta == 1; k == 0 means the product is zero.
        for row in 0..<m { for col in 0..<n { c[row * ldc + col] *= beta } }
        return
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}
