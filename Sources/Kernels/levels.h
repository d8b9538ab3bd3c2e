// The per-level kernel tables (one object file each; see kernels_*.c).
#ifndef DIFFUSE_KERNELS_LEVELS_H
#define DIFFUSE_KERNELS_LEVELS_H
#include "Kernels.h"
extern const dk_kernels dk_kernels_baseline;
#if defined(__x86_64__)
extern const dk_kernels dk_kernels_avx2;
extern const dk_kernels dk_kernels_avx512;
#endif
#endif
