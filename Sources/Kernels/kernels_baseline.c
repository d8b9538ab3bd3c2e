// The kernels for any CPU: 128-bit vectors (SSE2 on x86-64, NEON on arm64).
#define DK_WIDTH 4
#define DK_TABLE dk_kernels_baseline
#include "kernels_body.h"
