// Scaled-dot-product attention of one (image, head) pair without the length x length matrix,
// in the manner of FlashAttention-2 (Dao, 2023): each query row meets the keys a block at a time
// with an online softmax (a running maximum m and sum l, earlier partial results rescaled by
// e^(m_old - m_new) when the maximum grows), so sampling keeps nothing and training keeps one
// log-sum-exp per row; the backward pass recomputes the probabilities block by block.
//
// Vector lanes run along keys. The forward pass transposes K and V once per pair (d rows of
// `padded` floats) so that a query row's scores and its output accumulators are whole vectors;
// the output's d accumulators are summed across lanes once per row.

enum { KEY_BLOCK = 512 };  // keys a query row meets at a time: their scores fit in L1

/// x (length rows of d floats, `stride` apart) as d rows of `padded` floats, zero beyond length.
static void transpose_rows(const float *x, long length, long d, long stride, long padded, float *t) {
    for (long c = 0; c < d; c++) {
        float *row = t + c * padded;
        for (long j = 0; j < length; j++) row[j] = x[j * stride + c];
        for (long j = length; j < padded; j++) row[j] = 0;
    }
}

/// Forward attention for every query row; `acc` holds d vectors and `qs` d floats. Inlined with
/// a constant d for the common head sizes, so that the loops over channels unroll into registers.
/// Each block of keys takes three sweeps over its scores, which wait in `scores` (L1): the
/// scores and their maximum; p = e^(s - m) and their sum l; acc += p v.
static inline __attribute__((always_inline)) void attention_forward_rows(
    const float *q, const float *kt, const float *vt, float *out, float *lse, long length, long padded,
    const long d, long stride, float scale, vf *acc, float *qs) {
    const long vectors = padded / DK_WIDTH;
    const vi lastLanes = vfirst(length - (vectors - 1) * DK_WIDTH);
    float scores[KEY_BLOCK] __attribute__((aligned(64)));
    for (long i = 0; i < length; i++) {
        for (long c = 0; c < d; c++) { qs[c] = q[i * stride + c] * scale; acc[c] = (vf){}; }
        float m = -INFINITY;
        vf l = (vf){};
        for (long v0 = 0; v0 < vectors; v0 += KEY_BLOCK / DK_WIDTH) {
            const long end = vectors - v0 < KEY_BLOCK / DK_WIDTH ? vectors : v0 + KEY_BLOCK / DK_WIDTH;
            // 1. scores s = (scale q) k^T and their maximum; lanes past the last key to -inf
            vf blockMax = vsplat(-INFINITY);
            for (long t = v0; t < end; t++) {
                vf s = (vf){};
                for (long c = 0; c < d; c++) s += qs[c] * vload(kt + c * padded + t * DK_WIDTH);
                if (t == vectors - 1) s = vselect(lastLanes, s, vsplat(-INFINITY));
                blockMax = vmax(blockMax, s);
                vstore(scores + (t - v0) * DK_WIDTH, s);
            }
            // 2. the running maximum; rescale what earlier blocks summed under the old one (the
            // first block always sets it, so that a NaN score reaches the output)
            const float newMax = vmax_lane(blockMax);
            if (newMax > m || m == -INFINITY) {
                const float rescale = m == -INFINITY ? 0 : expf(m - newMax);
                for (long c = 0; c < d; c++) acc[c] *= rescale;
                l *= rescale;
                m = newMax;
            }
            // 3. p = e^(s - m) in place of s, l += p; then acc += p v (two loops, so that neither
            // the exponential's constants nor the accumulators leave the registers)
            const vf rowMax = vsplat(m);
            for (long t = v0; t < end; t++) {
                vf p = vexp(vload(scores + (t - v0) * DK_WIDTH) - rowMax);
                if (t == vectors - 1) p = vkeep(p, lastLanes);
                l += p;
                vstore(scores + (t - v0) * DK_WIDTH, p);
            }
            for (long t = v0; t < end; t++) {
                const vf p = vload(scores + (t - v0) * DK_WIDTH);
                for (long c = 0; c < d; c++) acc[c] += p * vload(vt + c * padded + t * DK_WIDTH);
            }
        }
        const float total = vsum(l);
        for (long c = 0; c < d; c++) out[i * stride + c] = vsum(acc[c]) / total;
        if (lse) lse[i] = m + logf(total);
    }
}

static void attention_forward(const float *q, const float *k, const float *v, float *out, float *lse,
                              long length, long d, long stride, float scale, float *scratch) {
    if (length <= 0 || d <= 0) return;
    const long padded = (length + DK_WIDTH - 1) / DK_WIDTH * DK_WIDTH;
    float *kt = scratch, *vt = scratch + d * padded;
    transpose_rows(k, length, d, stride, padded, kt);
    transpose_rows(v, length, d, stride, padded, vt);
    vf acc[64];
    float qs[64];
    switch (d) {
    case 8: attention_forward_rows(q, kt, vt, out, lse, length, padded, 8, stride, scale, acc, qs); return;
    case 16: attention_forward_rows(q, kt, vt, out, lse, length, padded, 16, stride, scale, acc, qs); return;
    case 32: attention_forward_rows(q, kt, vt, out, lse, length, padded, 32, stride, scale, acc, qs); return;
    case 64: attention_forward_rows(q, kt, vt, out, lse, length, padded, 64, stride, scale, acc, qs); return;
    default: break;
    }
    if (d < 64) {
        attention_forward_rows(q, kt, vt, out, lse, length, padded, d, stride, scale, acc, qs);
        return;
    }
    // Larger heads: accumulators in memory after the transposed keys and values.
    vf *heapAcc = (vf *)(vt + d * padded);
    float *heapQs = (float *)(heapAcc + d);
    attention_forward_rows(q, kt, vt, out, lse, length, padded, d, stride, scale, heapAcc, heapQs);
}

/// Backward attention a block of DK_WIDTH keys at a time (lanes = keys), over every query row:
///   p = e^(scale q k^T - lse), dp = dO v^T, ds = p (dp - rowsum(dO * O))
///   dV += p^T dO, dK += scale ds^T q, dQ += scale ds k
/// dK and dV of the block build up in vectors; dQ's row gets each key's contribution in turn.
static inline __attribute__((always_inline)) void attention_backward_blocks(
    const float *q, const float *k, const float *v, const float *lse, const float *delta, const float *gradOut,
    float *gradQ, float *gradK, float *gradV, long length, const long d, long stride, float scale,
    vf *kt, vf *vt, vf *dk, vf *dv) {
    for (long j0 = 0; j0 < length; j0 += DK_WIDTH) {
        const long keys = length - j0 < DK_WIDTH ? length - j0 : DK_WIDTH;
        const vi lanes = vfirst(keys);
        for (long c = 0; c < d; c++) {
            vf kc = (vf){}, vc = (vf){};
            for (long t = 0; t < keys; t++) { kc[t] = k[(j0 + t) * stride + c]; vc[t] = v[(j0 + t) * stride + c]; }
            kt[c] = kc; vt[c] = vc; dk[c] = (vf){}; dv[c] = (vf){};
        }
        for (long i = 0; i < length; i++) {
            const float *qi = q + i * stride, *gi = gradOut + i * stride;
            vf s = (vf){}, dp = (vf){};
            for (long c = 0; c < d; c++) { s += qi[c] * kt[c]; dp += gi[c] * vt[c]; }
            const vf p = vkeep(vexp(s * scale - lse[i]), lanes);
            const vf ds = p * (dp - delta[i]);
            for (long c = 0; c < d; c++) { dv[c] += p * gi[c]; dk[c] += ds * qi[c]; }
            // dQ's row in up to 64 channels at a time, summed in registers over the block's keys
            // (adding to memory key by key would chain every add through a store and a load)
            for (long c0 = 0; c0 < d; c0 += 64) {
                const long channels = d - c0 < 64 ? d - c0 : 64;
                float row[64];
                for (long c = 0; c < channels; c++) row[c] = 0;
                for (long t = 0; t < keys; t++) {
                    const float w = ds[t] * scale;
                    const float *kj = k + (j0 + t) * stride + c0;
                    for (long c = 0; c < channels; c++) row[c] += w * kj[c];
                }
                float *gq = gradQ + i * stride + c0;
                for (long c = 0; c < channels; c++) gq[c] += row[c];
            }
        }
        for (long c = 0; c < d; c++)
            for (long t = 0; t < keys; t++) {
                gradK[(j0 + t) * stride + c] = dk[c][t] * scale;
                gradV[(j0 + t) * stride + c] = dv[c][t];
            }
    }
}

static void attention_backward(const float *q, const float *k, const float *v, const float *out, const float *lse,
                               const float *gradOut, float *gradQ, float *gradK, float *gradV, long length, long d,
                               long stride, float scale, float *scratch) {
    if (length <= 0 || d <= 0) return;
    // delta_i = rowsum(dO_i * O_i) (FlashAttention-2's D), and dQ starts at zero
    float *delta = scratch;
    for (long i = 0; i < length; i++) {
        float sum = 0;
        for (long c = 0; c < d; c++) { sum += gradOut[i * stride + c] * out[i * stride + c]; gradQ[i * stride + c] = 0; }
        delta[i] = sum;
    }
    vf kt[64], vt[64], dk[64], dv[64];
    switch (d) {
    case 8: attention_backward_blocks(q, k, v, lse, delta, gradOut, gradQ, gradK, gradV, length, 8, stride, scale, kt, vt, dk, dv); return;
    case 16: attention_backward_blocks(q, k, v, lse, delta, gradOut, gradQ, gradK, gradV, length, 16, stride, scale, kt, vt, dk, dv); return;
    case 32: attention_backward_blocks(q, k, v, lse, delta, gradOut, gradQ, gradK, gradV, length, 32, stride, scale, kt, vt, dk, dv); return;
    case 64: attention_backward_blocks(q, k, v, lse, delta, gradOut, gradQ, gradK, gradV, length, 64, stride, scale, kt, vt, dk, dv); return;
    default: break;
    }
    if (d < 64) {
        attention_backward_blocks(q, k, v, lse, delta, gradOut, gradQ, gradK, gradV, length, d, stride, scale, kt, vt, dk, dv);
        return;
    }
    // Larger heads: the block's vectors in memory after delta.
    vf *block = (vf *)(scratch + (length + 15) / 16 * 16);  // 64-byte aligned when scratch is
    attention_backward_blocks(q, k, v, lse, delta, gradOut, gradQ, gradK, gradV, length, d, stride, scale,
                              block, block + d, block + 2 * d, block + 3 * d);
}
