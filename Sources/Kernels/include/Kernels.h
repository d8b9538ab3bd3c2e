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
} dk_kernels;

/// The kernel table of `level`.
const dk_kernels *dk_kernels_for(dk_level level);

/// Floats of scratch the attention kernels need for one pair.
long dk_attention_scratch_floats(long length, long d);

#endif
