// Row softmax, and e^x elementwise (vector.h's vexp over an array).

/// out = e^x for n floats.
static void exp_floats(const float *x, float *out, long n) {
    long i = 0;
    for (; i + DK_WIDTH <= n; i += DK_WIDTH) vstore(out + i, vexp(vload(x + i)));
    if (i < n) {  // the rest through one zero-padded vector, so every value takes the same path
        float tail[DK_WIDTH] = {0};
        memcpy(tail, x + i, (n - i) * sizeof(float));
        const vf e = vexp(vload(tail));
        for (long j = 0; i + j < n; j++) out[i + j] = e[j];
    }
}

/// The softmax of each of `rows` rows of `width` floats; `in` and `out` may be the same.
static void softmax_rows(const float *in, float *out, long rows, long width) {
    for (long r = 0; r < rows; r++) {
        const float *x = in + r * width;
        float *y = out + r * width;
        float largest = -INFINITY;
        for (long i = 0; i < width; i++) largest = x[i] > largest ? x[i] : largest;
        for (long i = 0; i < width; i++) y[i] = x[i] - largest;
        exp_floats(y, y, width);
        float total = 0;
        for (long i = 0; i < width; i++) total += y[i];
        const float inverse = 1 / total;
        for (long i = 0; i < width; i++) y[i] *= inverse;
    }
}
