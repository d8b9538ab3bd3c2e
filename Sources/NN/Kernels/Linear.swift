/// Matrix products: matmul of two matrices, and the linear layer y = x W^T + b over the last
/// dimension of x (PyTorch's weight layout, (out, in)).

/// a (m, k) x b (k, n) -> (m, n).
func matmulForward(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0], "matmul: \(a.shape) x \(b.shape)")
    let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
    var out = Tensor(uninitializedShape: [m, n])
    parallelSgemm(m: m, n: n, k: k, a: a.pointer, lda: k, b: b.pointer, ldb: n, c: out.mutablePointer(), ldc: n)
    return out
}

/// Gradients of matmul: da = g b^T, db = a^T g.
func matmulBackward(_ a: Tensor, _ b: Tensor, gradOut: Tensor) -> (a: Tensor, b: Tensor) {
    let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
    var ga = Tensor(uninitializedShape: a.shape), gb = Tensor(uninitializedShape: b.shape)
    parallelSgemm(transB: true, m: m, n: k, k: n, a: gradOut.pointer, lda: n, b: b.pointer, ldb: n,
          c: ga.mutablePointer(), ldc: k)
    parallelSgemm(transA: true, m: k, n: n, k: m, a: a.pointer, lda: k, b: gradOut.pointer, ldb: n,
          c: gb.mutablePointer(), ldc: n)
    return (ga, gb)
}

/// x (..., in), weight (out, in), bias (out) -> (..., out).
func linearForward(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
    precondition(weight.rank == 2 && x.shape.last == inFeatures, "linear: input \(x.shape), weight \(weight.shape)")
    let rows = x.count / inFeatures
    var out = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [outFeatures])
    let po = out.mutablePointer()
    if let bias {
        for r in 0..<rows { (po + r * outFeatures).update(from: bias.pointer, count: outFeatures) }
    }
    // One GEMM per sample (the rows of x[i] for x of rank 3 or more, a single row otherwise), so
    // that a sample's output does not depend on its batch (see Conv2d.swift).
    let rowsPerSample = max(1, x.rank >= 3 && x.shape[0] > 0 ? rows / x.shape[0] : 1)
    let px = x.pointer, pw = weight.pointer
    let samplesPerCore = max(1, 65_536 / max(rowsPerSample * outFeatures * inFeatures, 1))
    parallelChunks(rows / rowsPerSample, grain: samplesPerCore) { samples in
        for sample in samples {
            let first = sample * rowsPerSample
            sgemm(transB: true, m: rowsPerSample, n: outFeatures, k: inFeatures, a: px + first * inFeatures, lda: inFeatures,
                  b: pw, ldb: inFeatures, beta: bias == nil ? 0 : 1, c: po + first * outFeatures, ldc: outFeatures)
        }
    }
    return out
}

/// Gradients of linear: dx = g W, dW = g^T x, db = column sums of g.
func linearBackward(_ x: Tensor, weight: Tensor, gradOut: Tensor) -> (x: Tensor, weight: Tensor, bias: Tensor) {
    let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
    let rows = x.count / inFeatures
    var gx = Tensor(uninitializedShape: x.shape), gw = Tensor(uninitializedShape: weight.shape)
    var gb = Tensor.zeros([outFeatures])
    parallelSgemm(m: rows, n: inFeatures, k: outFeatures, a: gradOut.pointer, lda: outFeatures,
          b: weight.pointer, ldb: inFeatures, c: gx.mutablePointer(), ldc: inFeatures)
    parallelSgemm(transA: true, m: outFeatures, n: inFeatures, k: rows, a: gradOut.pointer, lda: outFeatures,
          b: x.pointer, ldb: inFeatures, c: gw.mutablePointer(), ldc: inFeatures)
    let pg = gradOut.pointer, pb = gb.mutablePointer()
    for r in 0..<rows { for o in 0..<outFeatures { pb[o] += pg[r * outFeatures + o] } }
    return (gx, gw, gb)
}
