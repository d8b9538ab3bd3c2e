// Diffuse's hot loops in C, compiled once per instruction set and picked at run time, so that
// one binary runs on any x86-64 and uses AVX2 or AVX-512 where the CPU has them. NN calls them
// through a table: `dk_kernels_for(level)`.
#ifndef DIFFUSE_KERNELS_H
#define DIFFUSE_KERNELS_H

#include <stddef.h>

typedef enum {
    DK_LEVEL_BASELINE = 0,  // any CPU: 128-bit vectors (SSE2 on x86-64)
    DK_LEVEL_AVX2 = 1,      // x86-64 with AVX2 and FMA: 256-bit vectors
    DK_LEVEL_AVX512 = 2,    // x86-64 with AVX-512 F/VL/DQ/BW: 512-bit vectors
} dk_level;

/// 1 when this CPU and its operating system can run code compiled for `level`.
int dk_level_supported(dk_level level);

/// The sizes of a Winograd F(m x m, 3x3) convolution (see NN's WinogradGeometry).
typedef struct {
    long in_channels, out_channels, height, width;
    long tiles_down, tiles_across;
    /// Floats per (point, channel) row of V and M: the chunk's tiles and eight more.
    long tile_row_length;
    /// m: 2 or 4.
    long output_tile;
} dk_winograd;

/// The kernels of one instruction-set level (call only where `dk_level_supported`).
typedef struct {
    /// Attention of one (image, head) pair without the length x length matrix (FlashAttention-2's
    /// online softmax, one query row against blocks of keys). q, k, v, out: `length` rows of `d`
    /// floats, `stride` floats apart. out = softmax(scale q k^T) v. When `lse` is not NULL it
    /// receives each row's log-sum-exp of the scaled scores (what the backward pass needs).
    /// `scratch` holds `dk_attention_scratch_floats(length, d)` floats.
    void (*attention_forward)(const float *q, const float *k, const float *v, float *out, float *lse,
                              long length, long d, long stride, float scale, float *scratch);
    /// The gradients of q, k and v for one pair, from the forward's `out` and `lse` and the
    /// output's gradient `gradOut` (all rows `stride` apart). The probabilities are recomputed
    /// a block of keys at a time. `scratch` holds `dk_attention_scratch_floats(length, d)` floats.
    void (*attention_backward)(const float *q, const float *k, const float *v, const float *out,
                               const float *lse, const float *gradOut, float *gradQ, float *gradK,
                               float *gradV, long length, long d, long stride, float scale, float *scratch);
    /// Channel `channel`'s transformed input tiles of images firstImage ..< firstImage + images
    /// into V (P, in_channels, tile_row_length). `paddedRows` holds α rows of
    /// m (tiles_across + 8) + 2 floats, zero where never written.
    void (*winograd_input_tiles)(const dk_winograd *g, const float *x, long firstImage, long images,
                                 long channel, float *paddedRows, float *v);
    /// Channel `channel`'s products in M (P, out_channels, tile_row_length) as output tiles,
    /// plus `bias`, into those images of out (N, out_channels, height, width).
    void (*winograd_output_tiles)(const dk_winograd *g, const float *products, long firstImage, long images,
                                  long channel, float bias, float *out);
    /// Group norm over (image, group) pairs first ..< first + count of x (N, groups *
    /// channelsPerGroup, pixels): each pair's mean and 1/sqrt(biased variance + eps), and
    /// out = x̂ weight + bias, or its SiLU when `silu` is not 0.
    void (*group_norm_forward)(const float *x, const float *weight, const float *bias, float *out, float *mean,
                               float *rstd, long first, long count, long groups, long channelsPerGroup,
                               long pixels, float eps, int silu);
    /// Backward group norm over those pairs: gradX, and per (image, channel) the sums of dy x̂
    /// and dy at rowSums[2 (n C + c)] and [2 (n C + c) + 1]. With `siluBias` (not NULL when the
    /// forward was fused with the SiLU), gradOut is the SiLU's output gradient and `dy` (like x)
    /// receives the gradient at the norm's output.
    void (*group_norm_backward)(const float *x, const float *weight, const float *gradOut, const float *mean,
                                const float *rstd, const float *siluBias, float *dy, float *gradX,
                                double *rowSums, long first, long count, long groups, long channelsPerGroup,
                                long pixels);
    /// out = x sigmoid(x), and its backward gradX = gradOut silu'(x), for n floats.
    void (*silu_forward)(const float *x, float *out, long n);
    void (*silu_backward)(const float *x, const float *gradOut, float *gradX, long n);
    /// out = e^x for n floats, within 2 ulp of expf on -87.3 ... 88.7 and saturating beyond.
    void (*exp)(const float *x, float *out, long n);
    /// The softmax of each of `rows` rows of `width` floats; `in` and `out` may be the same.
    void (*softmax_rows)(const float *in, float *out, long rows, long width);
} dk_kernels;

/// The kernel table of `level`.
const dk_kernels *dk_kernels_for(dk_level level);

/// Floats of scratch the attention kernels need for one pair.
long dk_attention_scratch_floats(long length, long d);

#endif
