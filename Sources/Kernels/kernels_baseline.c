// The kernels for any CPU: 128-bit vectors (SSE2 on x86-64, NEON on arm64).
#define DK_WIDTH 4
#define DK_TABLE dk_kernels_baseline
// winograd.h's 256-bit vectors become pairs of 128-bit ones here; clang warns that passing them
// by value differs from the AVX calling convention, which does not matter for these static
// functions (no other file calls them).
#pragma clang diagnostic ignored "-Wpsabi"
#include "kernels_body.h"
