// AVX2 int8 depthwise micro-kernel (templates/qu8_dwconv3x3.h): 8 pixels x 4 channels per ymm; each transposed
// quad of taps split into even and odd bytes (int16) and `vpmaddwd` against the packed int16 pairs (exact; not
// `vpmaddubsw`, which saturates: see ukernels_qu8_avx2.c). Only called on CPUs with AVX2 + FMA (configs.c).
#include "kernels_internal.h"

#if SN_KERNELS_X86
#include <immintrin.h>
#include <string.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)


typedef struct qdw_w16 {
    __m256i even, odd;
} qdw_w16;

SN_INLINE qdw_w16 qdw_loadw(const sn_qu8_dw_record *rec, int q) {
    return (qdw_w16){_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)rec->w_even[q])),
                     _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)rec->w_odd[q]))};
}

SN_INLINE __m256i qdw_dot(__m256i acc, __m256i x, qdw_w16 w) {
    const __m256i even = _mm256_and_si256(x, _mm256_set1_epi16(0xff)), odd = _mm256_srli_epi16(x, 8);
    return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(even, w.even), _mm256_madd_epi16(odd, w.odd)));
}

/// The 4x4 byte transpose of each 128-bit lane (ukernels_qu8_dw_avx512vnni.c): 4 pixels x 4 channels in, each
/// channel's 4 taps out.
SN_INLINE __m256i qdw_win(__m256i v) {
    return _mm256_shuffle_epi8(v, _mm256_broadcastsi128_si256(_mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)));
}

SN_INLINE __m256i qdw_halves(const uint8_t *p, const uint8_t *q) {
    return qdw_win(_mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)p)),
                                           _mm_loadu_si128((const __m128i *)(const void *)q), 1));
}

#define SN_DLANES 8
#define SN_DV __m256i
#define SN_DF __m256
#define SN_DW qdw_w16
#define SN_DWIN(p) qdw_win(_mm256_loadu_si256((const __m256i *)(const void *)(p)))
#define SN_DWIN_S2(p) qdw_halves((p), (p) + 32)
#define SN_DWIN_HALVES(p, q) qdw_halves((p), (q))
#define SN_DWIN_HALVES_S2(p, q) qdw_halves((p), (q))
#define SN_DLOADW(rec, q) qdw_loadw((rec), (q))
#define SN_DSHIFTW(w) ((qdw_w16){_mm256_slli_epi32((w).odd, 16), (w).even})
#define SN_DDOT(acc, x, w) qdw_dot((acc), (x), (w))
#define SN_DPATTERN_I(p) _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define SN_DPATTERN_F(p) _mm256_broadcast_ps((const __m128 *)(const void *)(p))
#define SN_DCVT_F(i) _mm256_cvtepi32_ps(i)
#define SN_DFMA_F(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define SN_DMUL_F(a, b) _mm256_mul_ps((a), (b))
#define SN_DMIN_F(a, b) _mm256_min_ps((a), (b))
#define SN_DMAX_F(a, b) _mm256_max_ps((a), (b))
#define SN_DCVT_RINT(f) _mm256_cvtps_epi32(f)
#define SN_DADD_I(a, b) _mm256_add_epi32((a), (b))
#define SN_DPACK(q0, q1, q2, q3) _mm256_packus_epi16(_mm256_packus_epi32((q0), (q1)), _mm256_packus_epi32((q2), (q3)))
#define SN_DUNZIP_S2(v) _mm256_permute4x64_epi64((v), 0xd8)
#define SN_DSTORE(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))

#define SN_DPACK_SATURATES 1

#define SN_QDW_UKERNEL sn_qu8_dwconv3x3_ukernel_8__avx2
#include "templates/qu8_dwconv3x3.h"

#pragma clang attribute pop
#endif
