// The kernels for x86-64 with AVX-512 (F, VL, DQ, BW): 512-bit vectors.
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))), apply_to = function)
#define DK_WIDTH 16
#define DK_TABLE dk_kernels_avx512
#include "kernels_body.h"
#pragma clang attribute pop
#endif
