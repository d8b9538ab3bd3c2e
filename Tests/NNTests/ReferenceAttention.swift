import Foundation
@testable import NN

/// The attention kernel NN used before the fused one, kept as the tests' reference: each
/// (image, head) pair as two GEMMs around a row softmax, with the whole probability matrix.
///
/// Shapes: q, k, v, out (B, L, C); head h uses channels h*d ..< (h+1)*d with d = C / heads;
/// probabilities (B, heads, L, L). Per head: P = softmax(Q K^T / sqrt(d)), O = P V.
func referenceAttentionForward(q: Tensor, k: Tensor, v: Tensor, heads: Int) -> (out: Tensor, probabilities: Tensor) {
    precondition(q.rank == 3 && q.shape == k.shape && q.shape == v.shape, "attention: q \(q.shape), k \(k.shape), v \(v.shape)")
    let (batch, length, channels) = (q.shape[0], q.shape[1], q.shape[2])
    precondition(heads > 0 && channels % heads == 0, "attention: \(channels) channels, \(heads) heads")
    let d = channels / heads
    let scale = 1 / Float(d).squareRoot()
    var out = Tensor(uninitializedShape: q.shape)
    var probabilities = Tensor(uninitializedShape: [batch, heads, length, length])
    let pq = q.pointer, pk = k.pointer, pv = v.pointer
    let po = out.mutablePointer(), pp = probabilities.mutablePointer()
    // One (image, head) pair a task: pairs touch disjoint parts of out and probabilities.
    parallelChunks(batch * heads, grain: 1) { pairs in
        for pair in pairs {
            let (b, h) = (pair / heads, pair % heads)
            let offset = b * length * channels + h * d
            let p = pp + pair * length * length
            sgemm(transB: true, m: length, n: length, k: d, alpha: scale, a: pq + offset, lda: channels,
                  b: pk + offset, ldb: channels, c: p, ldc: length)
            softmaxInPlace(p, rows: length, width: length)
            sgemm(m: length, n: d, k: length, a: p, lda: length, b: pv + offset, ldb: channels,
                  c: po + offset, ldc: channels)
        }
    }
    return (out, probabilities)
}

/// Backward attention: the gradients of q, k and v from gradOut (B, L, C).
func referenceAttentionBackward(q: Tensor, k: Tensor, v: Tensor, probabilities: Tensor, gradOut: Tensor,
                       heads: Int) -> (q: Tensor, k: Tensor, v: Tensor) {
    let (batch, length, channels) = (q.shape[0], q.shape[1], q.shape[2])
    let d = channels / heads
    let scale = 1 / Float(d).squareRoot()
    var gq = Tensor(uninitializedShape: q.shape), gk = Tensor(uninitializedShape: q.shape)
    var gv = Tensor(uninitializedShape: q.shape)
    let pq = q.pointer, pk = k.pointer, pv = v.pointer, pgo = gradOut.pointer, pp = probabilities.pointer
    let pgq = gq.mutablePointer(), pgk = gk.mutablePointer(), pgv = gv.mutablePointer()
    parallelChunks(batch * heads, grain: 1) { pairs in
        var gradScores = Tensor(uninitializedShape: [length, length])
        let ps = gradScores.mutablePointer()
        for pair in pairs {
            let (b, h) = (pair / heads, pair % heads)
            let offset = b * length * channels + h * d
            let p = pp + pair * length * length
            // dV = P^T dO
            sgemm(transA: true, m: length, n: d, k: length, a: p, lda: length, b: pgo + offset,
                  ldb: channels, c: pgv + offset, ldc: channels)
            // dP = dO V^T, then through the softmax: dS = P (dP - rowsum(dP P))
            sgemm(transB: true, m: length, n: length, k: d, a: pgo + offset, lda: channels,
                  b: pv + offset, ldb: channels, c: ps, ldc: length)
            softmaxBackwardRows(p, ps, ps, rows: length, width: length)
            // dQ = scale dS K, dK = scale dS^T Q
            sgemm(m: length, n: d, k: length, alpha: scale, a: ps, lda: length, b: pk + offset,
                  ldb: channels, c: pgq + offset, ldc: channels)
            sgemm(transA: true, m: length, n: d, k: length, alpha: scale, a: ps, lda: length,
                  b: pq + offset, ldb: channels, c: pgk + offset, ldc: channels)
        }
        withExtendedLifetime(gradScores) {}
    }
    return (gq, gk, gv)
}

/// Row softmax in place, as plainly as it can be written.
private func softmaxInPlace(_ p: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
    for r in 0..<rows {
        let row = p + r * width
        var largest = -Float.infinity
        for i in 0..<width { largest = max(largest, row[i]) }
        var total: Float = 0
        for i in 0..<width { row[i] = expf(row[i] - largest); total += row[i] }
        for i in 0..<width { row[i] /= total }
    }
}
