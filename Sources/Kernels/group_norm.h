// Group normalization (Wu & He 2018) forward and backward, optionally fused with the SiLU that
// follows it in the U-Net, and the SiLU alone; NN's GroupNorm.swift gives the shapes and runs
// these over ranges of (image, group) pairs on all cores. Sums run in vector lanes over blocks of at most 512 floats
// and in double across blocks, so their error stays near float rounding however long the group.

/// The sum of x[0 ..< n].
static double sum_floats(const float *x, long n) {
    double total = 0;
    long i = 0;
    while (i + DK_WIDTH <= n) {
        const long end = i + 512 < n ? i + 512 : n;
        vf lanes = (vf){};
        for (; i + DK_WIDTH <= end; i += DK_WIDTH) lanes += vload(x + i);
        total += vsum(lanes);
    }
    float tail = 0;
    for (; i < n; i++) tail += x[i];
    return total + tail;
}

/// The sum of (x[i] - mean)^2 over i < n.
static double sum_squared_deviations(const float *x, long n, float mean) {
    double total = 0;
    long i = 0;
    while (i + DK_WIDTH <= n) {
        const long end = i + 512 < n ? i + 512 : n;
        vf lanes = (vf){};
        for (; i + DK_WIDTH <= end; i += DK_WIDTH) { const vf d = vload(x + i) - mean; lanes += d * d; }
        total += vsum(lanes);
    }
    float tail = 0;
    for (; i < n; i++) tail += (x[i] - mean) * (x[i] - mean);
    return total + tail;
}

static inline vf vsigmoid(vf x) { return 1.0f / (1.0f + vexp(-x)); }
static inline float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

/// (Image, group) pairs first ..< first + count of x (N, C, pixels): each pair's mean and
/// 1/sqrt(biased variance + eps) into mean[pair], rstd[pair], and out = x̂ w + b, or
/// silu(x̂ w + b) with `silu`.
static void group_norm_forward(const float *x, const float *weight, const float *bias, float *out, float *mean,
                               float *rstd, long first, long count, long groups, long channelsPerGroup, long pixels,
                               float eps, int silu) {
    const long groupSize = channelsPerGroup * pixels;
    for (long ng = first; ng < first + count; ng++) {
        const float *group = x + ng * groupSize;
        // two passes (mean, then squared deviations) keep the variance accurate
        const float m = (float)(sum_floats(group, groupSize) / groupSize);
        const float r = (float)(1 / sqrt(sum_squared_deviations(group, groupSize, m) / groupSize + eps));
        mean[ng] = m;
        rstd[ng] = r;
        for (long cg = 0; cg < channelsPerGroup; cg++) {
            const long c = (ng % groups) * channelsPerGroup + cg;
            const float scale = r * weight[c], shift = bias[c] - m * scale;
            const float *in = group + cg * pixels;
            float *o = out + ng * groupSize + cg * pixels;
            long p = 0;
            if (silu) {
                for (; p + DK_WIDTH <= pixels; p += DK_WIDTH) {
                    const vf y = vload(in + p) * scale + shift;
                    vstore(o + p, y * vsigmoid(y));
                }
                for (; p < pixels; p++) { const float y = in[p] * scale + shift; o[p] = y * sigmoid(y); }
            } else {
                for (; p + DK_WIDTH <= pixels; p += DK_WIDTH) vstore(o + p, vload(in + p) * scale + shift);
                for (; p < pixels; p++) o[p] = in[p] * scale + shift;
            }
        }
    }
}

/// Backward group norm over (image, group) pairs first ..< first + count: gradX, and per (image,
/// channel) the sums of dy x̂ and of dy into rowSums[2 (n C + c)] and rowSums[2 (n C + c) + 1]
/// (the weight and bias gradients, summed over images by the caller). With `siluBias` (the
/// forward's bias when it was fused with the SiLU), gradOut is the SiLU's output gradient, and
/// dy = gradOut silu'(x̂ w + b) is written to `dy` for the second pass.
///
/// Two passes over each pair: the row sums, which give both parameter gradients and the group's
/// means of dx̂ = dy w and dx̂ x̂; then dx = rstd (dx̂ - mean(dx̂) - x̂ mean(dx̂ x̂)).
static void group_norm_backward(const float *x, const float *weight, const float *gradOut, const float *mean,
                                const float *rstd, const float *siluBias, float *dy, float *gradX, double *rowSums,
                                long first, long count, long groups, long channelsPerGroup, long pixels) {
    const long groupSize = channelsPerGroup * pixels, channels = groups * channelsPerGroup;
    for (long ng = first; ng < first + count; ng++) {
        const long base = ng * groupSize, firstChannel = (ng % groups) * channelsPerGroup;
        const float m = mean[ng], r = rstd[ng];
        const float *g = siluBias ? dy : gradOut;
        double sumD = 0, sumDX = 0;
        for (long cg = 0; cg < channelsPerGroup; cg++) {
            const long c = firstChannel + cg, row = base + cg * pixels;
            const float w = weight[c];
            if (siluBias) {
                const float scale = r * w, shift = siluBias[c] - m * scale;
                long p = 0;
                for (; p + DK_WIDTH <= pixels; p += DK_WIDTH) {
                    const vf y = vload(x + row + p) * scale + shift, s = vsigmoid(y);
                    vstore(dy + row + p, vload(gradOut + row + p) * s * (1.0f + y * (1.0f - s)));
                }
                for (; p < pixels; p++) {
                    const float y = x[row + p] * scale + shift, s = sigmoid(y);
                    dy[row + p] = gradOut[row + p] * s * (1 + y * (1 - s));
                }
            }
            double rowW = 0, rowB = 0;
            long p = 0;
            while (p + DK_WIDTH <= pixels) {
                const long end = p + 512 < pixels ? p + 512 : pixels;
                vf lanesW = (vf){}, lanesB = (vf){};
                for (; p + DK_WIDTH <= end; p += DK_WIDTH) {
                    const vf d = vload(g + row + p);
                    lanesW += d * ((vload(x + row + p) - m) * r);
                    lanesB += d;
                }
                rowW += vsum(lanesW);
                rowB += vsum(lanesB);
            }
            float tailW = 0, tailB = 0;
            for (; p < pixels; p++) { tailW += g[row + p] * ((x[row + p] - m) * r); tailB += g[row + p]; }
            rowW += tailW;
            rowB += tailB;
            const long slot = 2 * (ng / groups * channels + c);
            rowSums[slot] = rowW;
            rowSums[slot + 1] = rowB;
            sumD += w * rowB;
            sumDX += w * rowW;
        }
        const float meanD = (float)(sumD / groupSize), meanDX = (float)(sumDX / groupSize);
        for (long cg = 0; cg < channelsPerGroup; cg++) {
            const float w = weight[firstChannel + cg];
            const long row = base + cg * pixels;
            long p = 0;
            for (; p + DK_WIDTH <= pixels; p += DK_WIDTH) {
                const vf xhat = (vload(x + row + p) - m) * r;
                vstore(gradX + row + p, r * (vload(g + row + p) * w - meanD - xhat * meanDX));
            }
            for (; p < pixels; p++) {
                const float xhat = (x[row + p] - m) * r;
                gradX[row + p] = r * (g[row + p] * w - meanD - xhat * meanDX);
            }
        }
    }
}

/// out = x sigmoid(x) for n floats.
static void silu_forward(const float *x, float *out, long n) {
    long i = 0;
    for (; i + DK_WIDTH <= n; i += DK_WIDTH) { const vf v = vload(x + i); vstore(out + i, v * vsigmoid(v)); }
    for (; i < n; i++) out[i] = x[i] * sigmoid(x[i]);
}

/// gradX = gradOut s (1 + x (1 - s)) with s = sigmoid(x), for n floats.
static void silu_backward(const float *x, const float *gradOut, float *gradX, long n) {
    long i = 0;
    for (; i + DK_WIDTH <= n; i += DK_WIDTH) {
        const vf v = vload(x + i), s = vsigmoid(v);
        vstore(gradX + i, vload(gradOut + i) * s * (1.0f + v * (1.0f - s)));
    }
    for (; i < n; i++) { const float s = sigmoid(x[i]); gradX[i] = gradOut[i] * s * (1 + x[i] * (1 - s)); }
}
