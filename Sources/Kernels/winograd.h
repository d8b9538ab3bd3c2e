// Winograd F(m x m, 3x3) input and output tile transforms (Lavin & Gray 2016), for m = 2 and 4;
// NN's Winograd.swift describes the layout (V and M: (P, channels, tileRowLength) with
// P = α² points, α = m + 2) and runs the GEMMs between these two. Eight tiles at a time, one
// tile a lane of an eight-float vector (256 bits: one AVX2 register, two SSE ones).

typedef float v8 __attribute__((vector_size(32)));
typedef float v16 __attribute__((vector_size(64)));
typedef float v32 __attribute__((vector_size(128)));

static inline v8 load8(const float *p) { v8 v; memcpy(&v, p, sizeof v); return v; }
static inline void store8(float *p, v8 v) { memcpy(p, &v, sizeof v); }

// The 1-D transforms: B^T (α values to α) and A^T (α products to m outputs). `in` is read whole
// before `out` is written, so the two may be the same array.
static inline void input_f2(const v8 *d, v8 *out) {
    const v8 d0 = d[0], d1 = d[1], d2 = d[2], d3 = d[3];
    out[0] = d0 - d2; out[1] = d1 + d2; out[2] = d2 - d1; out[3] = d1 - d3;
}

static inline void output_f2(const v8 *p, v8 *out) {
    const v8 p0 = p[0], p1 = p[1], p2 = p[2], p3 = p[3];
    out[0] = p0 + p1 + p2; out[1] = p1 - p2 - p3;
}

static inline void input_f4(const v8 *d, v8 *out) {
    const v8 d0 = d[0], d1 = d[1], d2 = d[2], d3 = d[3], d4 = d[4], d5 = d[5];
    const v8 a = d4 - 4 * d2, b = d3 - 4 * d1, c = d4 - d2, e = 2 * (d3 - d1);
    out[0] = 4 * d0 - 5 * d2 + d4;
    out[1] = a + b; out[2] = a - b; out[3] = c + e; out[4] = c - e;
    out[5] = 4 * d1 - 5 * d3 + d5;
}

static inline void output_f4(const v8 *p, v8 *out) {
    const v8 p0 = p[0], p1 = p[1], p2 = p[2], p3 = p[3], p4 = p[4], p5 = p[5];
    const v8 sum12 = p1 + p2, difference12 = p1 - p2, sum34 = p3 + p4, difference34 = p3 - p4;
    out[0] = p0 + sum12 + sum34;
    out[1] = difference12 + 2 * difference34;
    out[2] = sum12 + 4 * sum34;
    out[3] = difference12 + 8 * difference34 + p5;
}

/// The α values of eight tiles along a row: out[t] lane j = row[m j + t]. Reads row[0 ..< 9 m].
static inline void gather_f2(const float *row, v8 *out) {
    v16 a, b;
    memcpy(&a, row, sizeof a);
    memcpy(&b, row + 2, sizeof b);
    out[0] = __builtin_shufflevector(a, a, 0, 2, 4, 6, 8, 10, 12, 14);
    out[1] = __builtin_shufflevector(a, a, 1, 3, 5, 7, 9, 11, 13, 15);
    out[2] = __builtin_shufflevector(b, b, 0, 2, 4, 6, 8, 10, 12, 14);
    out[3] = __builtin_shufflevector(b, b, 1, 3, 5, 7, 9, 11, 13, 15);
}

static inline void gather_f4(const float *row, v8 *out) {
    v32 a, b;
    memcpy(&a, row, sizeof a);
    memcpy(&b, row + 4, sizeof b);
    out[0] = __builtin_shufflevector(a, a, 0, 4, 8, 12, 16, 20, 24, 28);
    out[1] = __builtin_shufflevector(a, a, 1, 5, 9, 13, 17, 21, 25, 29);
    out[2] = __builtin_shufflevector(a, a, 2, 6, 10, 14, 18, 22, 26, 30);
    out[3] = __builtin_shufflevector(a, a, 3, 7, 11, 15, 19, 23, 27, 31);
    out[4] = __builtin_shufflevector(b, b, 0, 4, 8, 12, 16, 20, 24, 28);
    out[5] = __builtin_shufflevector(b, b, 1, 5, 9, 13, 17, 21, 25, 29);
}

/// One channel's input tiles of `images` images into V; see NN's `transformInputTiles`. With a
/// constant m (2 or 4) after inlining, the tile arrays live in registers.
static inline __attribute__((always_inline)) void winograd_input_tiles_m(
    const dk_winograd *g, const float *x, long firstImage, long images, long channel,
    float *paddedRows, float *v, const int m) {
    const int alpha = m + 2;
    const long across = g->tiles_across, tilesPerImage = g->tiles_down * across;
    const long rowLength = m * (across + 8) + 2, pointStride = g->in_channels * g->tile_row_length;
    float *base = v + channel * g->tile_row_length;
    v8 rows[6][6];  // rows[s][l]: row s of the eight tiles after B^T along it
    for (long slot = 0; slot < images; slot++) {
        const float *plane = x + ((firstImage + slot) * g->in_channels + channel) * g->height * g->width;
        for (long i = 0; i < g->tiles_down; i++) {
            for (int s = 0; s < alpha; s++) {
                const long y = m * i + s - 1;
                float *padded = paddedRows + s * rowLength + 1;
                if (y >= 0 && y < g->height) memcpy(padded, plane + y * g->width, g->width * sizeof(float));
                else memset(padded, 0, g->width * sizeof(float));
            }
            float *tileRow = base + slot * tilesPerImage + i * across;
            for (long first = 0; first < across; first += 8) {
                for (int s = 0; s < alpha; s++) {
                    if (m == 2) gather_f2(paddedRows + s * rowLength + m * first, rows[s]);
                    else gather_f4(paddedRows + s * rowLength + m * first, rows[s]);
                    if (m == 2) input_f2(rows[s], rows[s]); else input_f4(rows[s], rows[s]);
                }
                // column l of the block is rows[.][l]; point (s, l) of V is s α + l
                for (int l = 0; l < alpha; l++) {
                    v8 column[6], transformed[6];
                    for (int s = 0; s < alpha; s++) column[s] = rows[s][l];
                    if (m == 2) input_f2(column, transformed); else input_f4(column, transformed);
                    for (int s = 0; s < alpha; s++) store8(tileRow + first + (s * alpha + l) * pointStride, transformed[s]);
                }
            }
        }
    }
}

static void winograd_input_tiles(const dk_winograd *g, const float *x, long firstImage, long images, long channel,
                                 float *paddedRows, float *v) {
    if (g->output_tile == 2) winograd_input_tiles_m(g, x, firstImage, images, channel, paddedRows, v, 2);
    else winograd_input_tiles_m(g, x, firstImage, images, channel, paddedRows, v, 4);
}

/// One channel's products in M into output tiles, plus `bias`, written into `images` images of
/// out; see NN's `transformOutputTiles`.
static inline __attribute__((always_inline)) void winograd_output_tiles_m(
    const dk_winograd *g, const float *products, long firstImage, long images, long channel, float bias,
    float *out, const int m) {
    const int alpha = m + 2;
    const long across = g->tiles_across, tilesPerImage = g->tiles_down * across;
    const long pointStride = g->out_channels * g->tile_row_length;
    const float *base = products + channel * g->tile_row_length;
    for (long slot = 0; slot < images; slot++) {
        float *plane = out + ((firstImage + slot) * g->out_channels + channel) * g->height * g->width;
        for (long i = 0; i < g->tiles_down; i++) {
            const float *tileRow = base + slot * tilesPerImage + i * across;
            for (long first = 0; first < across; first += 8) {
                v8 columns[4][6];  // columns[r][l]: after A^T over the tiles' columns
                for (int l = 0; l < alpha; l++) {
                    v8 p[6], o[4];
                    for (int s = 0; s < alpha; s++) p[s] = load8(tileRow + first + (s * alpha + l) * pointStride);
                    if (m == 2) output_f2(p, o); else output_f4(p, o);
                    for (int r = 0; r < m; r++) columns[r][l] = o[r];
                }
                const long lanes = across - first < 8 ? across - first : 8, x0 = m * first, inside = g->width - x0;
                const long rowsInside = g->height - m * i < m ? g->height - m * i : m;
                for (int r = 0; r < rowsInside; r++) {
                    v8 o[4];
                    if (m == 2) output_f2(columns[r], o); else output_f4(columns[r], o);
                    // output column m (first + j) + q of row r is o[q] lane j
                    float *destination = plane + (m * i + r) * g->width + x0;
                    if (lanes == 8 && m * 8 <= inside) {
                        for (int j = 0; j < 8; j++)
                            for (int q = 0; q < m; q++) destination[m * j + q] = o[q][j] + bias;
                    } else {
                        for (long j = 0; j < lanes; j++)
                            for (int q = 0; q < m && m * j + q < inside; q++) destination[m * j + q] = o[q][j] + bias;
                    }
                }
            }
        }
    }
}

static void winograd_output_tiles(const dk_winograd *g, const float *products, long firstImage, long images,
                                  long channel, float bias, float *out) {
    if (g->output_tile == 2) winograd_output_tiles_m(g, products, firstImage, images, channel, bias, out, 2);
    else winograd_output_tiles_m(g, products, firstImage, images, channel, bias, out, 4);
}
