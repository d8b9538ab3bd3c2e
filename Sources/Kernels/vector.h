// Float vectors of DK_WIDTH lanes (clang's vector extensions, so the same source compiles to
// SSE2, AVX2 or AVX-512 registers), and the few operations the kernels need on them. Included
// once per instruction-set level by kernels_body.h, after DK_WIDTH is defined.
#include <math.h>
#include <string.h>

typedef float vf __attribute__((vector_size(DK_WIDTH * 4)));
typedef int vi __attribute__((vector_size(DK_WIDTH * 4)));

static inline vf vload(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline vf vsplat(float x) { return (vf){} + x; }

static inline float vsum(vf v) {
    float s = 0;
    for (int i = 0; i < DK_WIDTH; i++) s += v[i];
    return s;
}

static inline float vmax_lane(vf v) {
    float m = v[0];
    for (int i = 1; i < DK_WIDTH; i++) m = v[i] > m ? v[i] : m;
    return m;
}

/// Lanes where `mask` is set from `a`, the others from `b`.
static inline vf vselect(vi mask, vf a, vf b) { return (vf)((mask & (vi)a) | (~mask & (vi)b)); }

static inline vf vmax(vf a, vf b) { return vselect(a > b, a, b); }

/// Lanes where `mask` is set keep `v`, the others become 0.
static inline vf vkeep(vf v, vi mask) { return (vf)((vi)v & mask); }

/// Lanes 0 ..< count set (count <= DK_WIDTH).
static inline vi vfirst(long count) {
    vi lanes;
    for (int i = 0; i < DK_WIDTH; i++) lanes[i] = i;
    return lanes < (vi){} + (int)count;
}

/// e^x for each lane, within about 2 ulp of expf for -87.3 <= x <= 88.7 (Cephes' expf:
/// x = n ln 2 + r with |r| <= ln 2 / 2, a degree-5 polynomial for e^r, 2^n built in the exponent
/// bits). Saturates outside that range (about 1e-38 below, 3.4e38 above).
static inline vf vexp(vf x) {
    x = vselect(x < -87.33654f, vsplat(-87.33654f), x);
    x = vselect(x > 88.72283f, vsplat(88.72283f), x);
    // n = round(x / ln 2): adding 1.5 * 2^23 rounds to an integer held in the low mantissa bits
    const float magic = 12582912.0f;
    vf shifted = x * 1.44269504f + magic;
    vf n = shifted - magic;
    // r = x - n ln 2, with ln 2 split in two for an exact first product
    vf r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    vf p = vsplat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    vf er = p * (r * r) + r + 1.0f;
    // 2^n as 2^half 2^(n - half), each a normal float, so that n = 128 and n = -126 stay in range
    vi whole = (vi)shifted - 0x4B400000, half = whole >> 1;
    vf scale1 = (vf)((half + 127) << 23), scale2 = (vf)((whole - half + 127) << 23);
    return er * scale1 * scale2;
}
