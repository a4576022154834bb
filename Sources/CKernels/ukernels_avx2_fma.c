// AVX2 + FMA micro-kernels: 8 floats per register, 16 registers. Compiled for any x86-64 (every function here
// carries the target attribute of the pragma below) and only called through a configuration whose required
// features the CPU has (configs.c).
#include "kernels_internal.h"

#if SN_KERNELS_X86
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

// F16C (vcvtph2ps) came before AVX2 and is part of what the AVX2 + FMA configurations require (cpu_features.c).
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)


/// `lanes_mask(n)` for n in 0...8 is `mask_window + 8 - n`: n all-ones lanes, then zeros (for maskload/maskstore).
static const int32_t mask_window[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

SN_INLINE __m256i lanes_mask(ptrdiff_t n) {
    return _mm256_loadu_si256((const __m256i *)(const void *)(mask_window + 8 - n));
}

/// `p[0], p[2], ..., p[14]`: the stride-2 window's columns for 8 outputs. The in-lane shuffle gives
/// p0 p2 p8 p10 | p4 p6 p12 p14; the 64-bit permute puts the pairs back in order.
SN_INLINE __m256 load_even(const float *p) {
    const __m256 evens = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(evens), _MM_SHUFFLE(3, 1, 2, 0)));
}

SN_INLINE float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// The vector layer the templates are written against (templates/vector_layer.h).
#define SN_V __m256
#define SN_LANES 8
#define SN_VLOAD(p) _mm256_loadu_ps(p)
#define SN_VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define SN_VSET1(x) _mm256_set1_ps(x)
#define SN_VZERO() _mm256_setzero_ps()
#define SN_VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define SN_VADD(a, b) _mm256_add_ps((a), (b))
#define SN_VMAX(a, b) _mm256_max_ps((a), (b))
/// Lanes 0 ..< n of p (n <= 8), the others zero; nothing past them is read (maskload does not fault there).
#define SN_VLOAD_LANES(p, n) _mm256_maskload_ps((p), lanes_mask(n))
#define SN_VSTORE_LANES(p, v, n) _mm256_maskstore_ps((p), lanes_mask(n), (v))
#define SN_VREDUCE_ADD(v) horizontal_sum(v)
#define SN_VLOAD_EVEN(p) load_even(p)
#define SN_PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#define SN_MASKED_STORE_IS_FREE 0

// 2R accumulators, 2 input vectors and a broadcast weight fit the 16 registers.
#define SN_POINTWISE_UKERNEL sn_f32_pointwise_ukernel_6x16__avx2_fma
#define SN_POINTWISE_MR 6
#define SN_POINTWISE_NV 2
#define SN_POINTWISE_TAIL_MAX 0
#include "templates/f32_pointwise.h"

#define SN_DENSE_UKERNEL sn_f32_dense_ukernel_4x8__avx2_fma
#include "templates/f32_dense.h"

// binary16 weights (the int8 recheck network's classifier): vcvtph2ps as they load.
SN_INLINE __m256 load_half8(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p)); }
SN_INLINE __m256 load_half8_lanes(const uint16_t *p, size_t n) {
    uint16_t lanes[8] = {0};
    memcpy(lanes, p, n * sizeof(uint16_t));
    return load_half8(lanes);
}
#define SN_DENSE_UKERNEL sn_f16_dense_ukernel_4x8__avx2_fma
#define SN_DENSE_WEIGHT uint16_t
#define SN_DENSE_LOAD_W(p) load_half8(p)
#define SN_DENSE_LOAD_W_LANES(p, n) load_half8_lanes((p), (n))
#include "templates/f32_dense.h"

#define SN_DWCONV_PLANE_UKERNEL sn_f32_dwconv3x3_ukernel_plane8__avx2_fma
#include "templates/f32_dwconv3x3_plane.h"

/// Lanes `0 <= start + l < limit` of an 8-float load, as a maskload/maskstore mask.
SN_INLINE __m256i lanes_inside(ptrdiff_t start, ptrdiff_t limit) {
    const __m256i position = _mm256_add_epi32(_mm256_set1_epi32((int)start), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_and_si256(_mm256_cmpgt_epi32(position, _mm256_set1_epi32(-1)),
                            _mm256_cmpgt_epi32(_mm256_set1_epi32((int)limit), position));
}

#define SN_MASK __m256i
#define SN_MASK_INSIDE(start, limit) lanes_inside((start), (limit))
#define SN_VLOAD_MASKED_OR(pad, m, p) _mm256_blendv_ps((pad), _mm256_maskload_ps((p), (m)), _mm256_castsi256_ps(m))
/// The in-lane shuffle gives x0 x2 x8 x10 | x4 x6 x12 x14 (x the 16 floats lo, hi); the 64-bit permute puts the
/// pairs back in order.
#define SN_VEVEN(lo, hi) \
    _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps((lo), (hi), _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)))
#define SN_VODD(lo, hi) \
    _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps((lo), (hi), _MM_SHUFFLE(3, 1, 3, 1))), _MM_SHUFFLE(3, 1, 2, 0)))
#define SN_VSHIFT_IN(v, s) _mm256_blend_ps(_mm256_permutevar8x32_ps((v), _mm256_setr_epi32(7, 0, 1, 2, 3, 4, 5, 6)), (s), 1)
#define SN_VMUL(a, b) _mm256_mul_ps((a), (b))

#define SN_CONV3X3S2_UKERNEL sn_f32_conv3x3s2_ukernel_1x8__avx2_fma
#define SN_CONV3X3S2_MR_ROWS 1
#define SN_CONV3X3S2_BLOCK(left) ((left) >= 12 ? 12 : (left) >= 8 ? 8 : (left) >= 4 ? 4 : 1)
#include "templates/f32_conv3x3s2.h"

#define SN_POOL_UKERNEL sn_f32_pool3x3s2_ukernel_8__avx2_fma
#include "templates/f32_pool3x3s2.h"

#pragma clang attribute pop
#endif
