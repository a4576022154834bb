// Portable micro-kernels: the templates over the compiler's 4-float vectors (SSE2 on x86-64, NEON on arm64), used
// on CPUs without AVX2 + FMA and on other architectures. Read the naive reference kernels (ShuffleNetEngine/Kernels/ReferenceKernels.swift)
// for what every micro-kernel must compute.
#include "kernels_internal.h"

#include <string.h>


typedef float sn_v4 __attribute__((ext_vector_type(4)));

SN_INLINE sn_v4 v4_load(const float *p) {
    sn_v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

SN_INLINE void v4_store(float *p, sn_v4 v) { memcpy(p, &v, sizeof v); }

/// Lanes 0 ..< n of p (n <= 4), the others zero; nothing past them is read.
SN_INLINE sn_v4 v4_load_lanes(const float *p, size_t n) {
    float lanes[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n && i < 4; i++) lanes[i] = p[i];
    return v4_load(lanes);
}

SN_INLINE void v4_store_lanes(float *p, sn_v4 v, size_t n) {
    float lanes[4];
    v4_store(lanes, v);
    for (size_t i = 0; i < n && i < 4; i++) p[i] = lanes[i];
}

SN_INLINE sn_v4 v4_load_even(const float *p) {
    return __builtin_shufflevector(v4_load(p), v4_load(p + 4), 0, 2, 4, 6);
}

// The vector layer the templates are written against (templates/vector_layer.h). `a * b + c` is contracted to an FMA
// where the baseline has one (arm64), and left as a multiply and an add where it has not (x86-64's SSE2).
#define SN_V sn_v4
#define SN_LANES 4
#define SN_VLOAD(p) v4_load(p)
#define SN_VSTORE(p, v) v4_store((p), (v))
#define SN_VSET1(x) ((sn_v4)(x))
#define SN_VZERO() ((sn_v4)(0.0f))
#define SN_VFMA(a, b, c) ((a) * (b) + (c))
#define SN_VADD(a, b) ((a) + (b))
#define SN_VMAX(a, b) __builtin_elementwise_max((a), (b))
#define SN_VLOAD_LANES(p, n) v4_load_lanes((p), (n))
#define SN_VSTORE_LANES(p, v, n) v4_store_lanes((p), (v), (n))
#define SN_VREDUCE_ADD(v) (((v).x + (v).y) + ((v).z + (v).w))
#define SN_VLOAD_EVEN(p) v4_load_even(p)
#define SN_PREFETCH(p) __builtin_prefetch(p)
#define SN_MASKED_STORE_IS_FREE 0

// 4 x 4 accumulators fill the 16 SSE2 registers' worth the compiler has (it spills a few on x86-64).
#define SN_POINTWISE_UKERNEL sn_f32_pointwise_ukernel_4x16__generic
#define SN_POINTWISE_MR 4
#define SN_POINTWISE_NV 4
#define SN_POINTWISE_TAIL_MAX 0
#include "templates/f32_pointwise.h"

#define SN_DENSE_UKERNEL sn_f32_dense_ukernel_4x4__generic
#include "templates/f32_dense.h"

// binary16 weights converted in software (no half-precision instructions assumed).
SN_INLINE sn_v4 v4_load_half_lanes(const uint16_t *p, size_t n) {
    float lanes[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n && i < 4; i++) lanes[i] = sn_half_to_float(p[i]);
    return v4_load(lanes);
}
#define SN_DENSE_UKERNEL sn_f16_dense_ukernel_4x4__generic
#define SN_DENSE_WEIGHT uint16_t
#define SN_DENSE_LOAD_W(p) v4_load_half_lanes((p), 4)
#define SN_DENSE_LOAD_W_LANES(p, n) v4_load_half_lanes((p), (n))
#include "templates/f32_dense.h"

#define SN_DWCONV_PLANE_UKERNEL sn_f32_dwconv3x3_ukernel_plane4__generic
#include "templates/f32_dwconv3x3_plane.h"

/// Lanes `lo ..< hi` of a vector.
typedef struct v4_mask {
    ptrdiff_t lo, hi;
} v4_mask;

/// Lanes `0 <= start + l < limit`.
SN_INLINE v4_mask v4_mask_inside(ptrdiff_t start, ptrdiff_t limit) {
    const ptrdiff_t lo = start < 0 ? -start : 0, hi = limit - start < 4 ? limit - start : 4;
    return (v4_mask){lo, hi > lo ? hi : lo};
}

SN_INLINE sn_v4 v4_load_masked_or(sn_v4 pad, v4_mask m, const float *p) {
    if (m.lo == 0 && m.hi == 4) return v4_load(p);
    float lanes[4];
    v4_store(lanes, pad);
    for (ptrdiff_t i = m.lo; i < m.hi; i++) lanes[i] = p[i];
    return v4_load(lanes);
}

#define SN_MASK v4_mask
#define SN_MASK_INSIDE(start, limit) v4_mask_inside((start), (limit))
#define SN_VLOAD_MASKED_OR(pad, m, p) v4_load_masked_or((pad), (m), (p))
#define SN_VEVEN(lo, hi) __builtin_shufflevector((lo), (hi), 0, 2, 4, 6)
#define SN_VODD(lo, hi) __builtin_shufflevector((lo), (hi), 1, 3, 5, 7)
#define SN_VSHIFT_IN(v, s) __builtin_shufflevector((s), (v), 0, 4, 5, 6)
#define SN_VMUL(a, b) ((a) * (b))

#define SN_CONV3X3S2_UKERNEL sn_f32_conv3x3s2_ukernel_1x4__generic
#define SN_CONV3X3S2_MR_ROWS 1
#define SN_CONV3X3S2_BLOCK(left) ((left) >= 12 ? 12 : (left) >= 8 ? 8 : (left) >= 4 ? 4 : 1)
#include "templates/f32_conv3x3s2.h"

#define SN_POOL_UKERNEL sn_f32_pool3x3s2_ukernel_4__generic
#include "templates/f32_pool3x3s2.h"
