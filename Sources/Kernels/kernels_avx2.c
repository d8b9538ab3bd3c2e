// The kernels for x86-64 with AVX2 and FMA: 256-bit vectors.
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define DK_WIDTH 8
#define DK_TABLE dk_kernels_avx2
#include "kernels_body.h"
#pragma clang attribute pop
#endif
