// Which instruction-set levels this CPU runs, and the kernel table of each.
#include "Kernels.h"
#include "levels.h"

#if defined(__x86_64__)
#include <cpuid.h>

static unsigned long long read_xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

int dk_level_supported(dk_level level) {
    if (level == DK_LEVEL_BASELINE) return 1;
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!(fma && osxsave && avx)) return 0;
    unsigned long long xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6) return 0;  // the OS saves SSE and AVX state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int avx2 = (b >> 5) & 1;
    if (level == DK_LEVEL_AVX2) return avx2;
    int avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
    // and the OS saves the opmask and the upper halves of the zmm registers
    return level == DK_LEVEL_AVX512 && avx2 && avx512f && avx512dq && avx512bw && avx512vl && (xcr0 & 0xE0) == 0xE0;
}
#else
int dk_level_supported(dk_level level) { return level == DK_LEVEL_BASELINE; }
#endif

const dk_kernels *dk_kernels_for(dk_level level) {
    switch (level) {
#if defined(__x86_64__)
    case DK_LEVEL_AVX512: return &dk_kernels_avx512;
    case DK_LEVEL_AVX2: return &dk_kernels_avx2;
#endif
    default: return &dk_kernels_baseline;
    }
}

long dk_attention_scratch_floats(long length, long d) {
    // forward: K and V transposed (rows padded to whole 512-bit vectors), then, for heads over
    // 64 channels, d accumulator vectors and d floats; backward: one float a row, then 4 d vectors
    long padded = (length + 15) / 16 * 16;
    long forward = 2 * d * padded + 16 * d + d;
    long backward = padded + 4 * 16 * d;
    return forward > backward ? forward : backward;
}
