import Kernels

/// Multi-head scaled-dot-product attention over sequence positions (for the U-Net, the spatial
/// positions of a feature map), without the (L x L) probability matrix: the C kernel
/// (Sources/Kernels/attention.h) meets each query row with blocks of keys under an online
/// softmax, FlashAttention-2's scheme.
///
/// Shapes: q, k, v, out (B, L, C); head h uses channels h*d ..< (h+1)*d with d = C / heads.
/// Per head: out = softmax(Q K^T / sqrt(d)) V. With `keepLogSumExp` (a training forward pass)
/// it also returns each row's log-sum-exp of the scaled scores, (B, heads, L): all that the
/// backward pass keeps.
func attentionForward(q: Tensor, k: Tensor, v: Tensor, heads: Int, keepLogSumExp: Bool,
                      level: SIMDLevel = .native) -> (out: Tensor, logSumExp: Tensor?) {
    let shape = AttentionShape(q: q, k: k, v: v, heads: heads)
    var out = Tensor(uninitializedShape: q.shape)
    var logSumExp = keepLogSumExp ? Tensor(uninitializedShape: [shape.batch, heads, shape.length]) : nil
    let pq = q.pointer, pk = k.pointer, pv = v.pointer, po = out.mutablePointer()
    let plse = logSumExp?.mutablePointer()
    let forward = level.kernels.attention_forward!
    shape.forEachPair { pair, offset, scratch in
        forward(pq + offset, pk + offset, pv + offset, po + offset, plse.map { $0 + pair * shape.length },
                shape.length, shape.headSize, shape.channels, shape.scale, scratch)
    }
    return (out, logSumExp)
}

/// Backward attention: the gradients of q, k and v from the forward pass's `out` and
/// `logSumExp` and the output's gradient `gradOut` (B, L, C).
func attentionBackward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, gradOut: Tensor,
                       heads: Int, level: SIMDLevel = .native) -> (q: Tensor, k: Tensor, v: Tensor) {
    let shape = AttentionShape(q: q, k: k, v: v, heads: heads)
    precondition(out.shape == q.shape && gradOut.shape == q.shape && logSumExp.count == shape.batch * heads * shape.length,
                 "attention backward: out \(out.shape), gradOut \(gradOut.shape), logSumExp \(logSumExp.shape)")
    var gq = Tensor(uninitializedShape: q.shape), gk = Tensor(uninitializedShape: q.shape)
    var gv = Tensor(uninitializedShape: q.shape)
    let pq = q.pointer, pk = k.pointer, pv = v.pointer, po = out.pointer, plse = logSumExp.pointer, pgo = gradOut.pointer
    let pgq = gq.mutablePointer(), pgk = gk.mutablePointer(), pgv = gv.mutablePointer()
    let backward = level.kernels.attention_backward!
    shape.forEachPair { pair, offset, scratch in
        backward(pq + offset, pk + offset, pv + offset, po + offset, plse + pair * shape.length, pgo + offset,
                 pgq + offset, pgk + offset, pgv + offset, shape.length, shape.headSize, shape.channels,
                 shape.scale, scratch)
    }
    return (gq, gk, gv)
}

/// The sizes of a multi-head attention call, and its loop over (image, head) pairs.
private struct AttentionShape {
    let batch, length, channels, heads: Int

    init(q: Tensor, k: Tensor, v: Tensor, heads: Int) {
        precondition(q.rank == 3 && q.shape == k.shape && q.shape == v.shape, "attention: q \(q.shape), k \(k.shape), v \(v.shape)")
        (batch, length, channels) = (q.shape[0], q.shape[1], q.shape[2])
        precondition(heads > 0 && channels % heads == 0, "attention: \(channels) channels, \(heads) heads")
        self.heads = heads
    }

    var headSize: Int { channels / heads }
    var scale: Float { 1 / Float(headSize).squareRoot() }

    /// Runs `body(pair, offset of the pair's first element, scratch)` for every (image, head)
    /// pair, one pair a task on all cores; pairs touch disjoint parts of every output.
    func forEachPair(_ body: (_ pair: Int, _ offset: Int, _ scratch: UnsafeMutablePointer<Float>) -> Void) {
        let scratchCount = dk_attention_scratch_floats(length, headSize)
        parallelChunks(batch * heads, grain: 1) { pairs in
            var scratch = Tensor(uninitializedShape: [scratchCount])
            let buffer = scratch.mutablePointer()
            for pair in pairs {
                let (b, h) = (pair / heads, pair % heads)
                body(pair, b * length * channels + h * headSize, buffer)
            }
            withExtendedLifetime(scratch) {}
        }
    }
}
