// AVX2 micro-kernels of the small int8 operators (qu8_small_internal.h): 8 int32 / float lanes, 32 bytes of a
// channel block (8 pixels x 4 channels) per ymm. Compiled for any x86-64 and only called through a configuration
// whose required features (AVX2 + FMA) the CPU has (qu8_small_ops.c).
#include "qu8_small_internal.h"

#if SN_KERNELS_X86
#include <immintrin.h>
#include <string.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

// MARK: - Dense (templates/qu8_dense.h): no vpdpbusd and no saturating vpmaddubsw (255 * 127 * 2 > 32767): the
// input quad as two broadcast int16 pairs, (x0, x2) and (x1, x3); each row's s8 weights split into the even and
// odd bytes of its quad, sign-extended to int16 by shifts; two vpmaddwd per 8 rows and quad, exact.

typedef struct qd_pairs {
    __m256i even, odd;
} qd_pairs;

SN_INLINE qd_pairs qd_xpairs(uint32_t quad) {
    const uint32_t even = (quad & 0xffu) | ((quad >> 16) & 0xffu) << 16, odd = ((quad >> 8) & 0xffu) | (quad >> 24) << 16;
    return (qd_pairs){_mm256_set1_epi32((int)even), _mm256_set1_epi32((int)odd)};
}

SN_INLINE __m256i qd_dot(__m256i acc, qd_pairs x, const int8_t *p) {
    const __m256i w = _mm256_loadu_si256((const __m256i *)(const void *)p);
    const __m256i even = _mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8), odd = _mm256_srai_epi16(w, 8);
    return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(even, x.even), _mm256_madd_epi16(odd, x.odd)));
}

SN_INLINE void qd_store(float *p, __m256 v, ptrdiff_t first, ptrdiff_t count) {
    if (first == 0 && count == 8) {
        _mm256_storeu_ps(p, v);
    } else {
        float lanes[8];
        _mm256_storeu_ps(lanes, v);
        memcpy(p + first, lanes + first, (size_t)count * sizeof(float));
    }
}

#define SN_QD_UKERNEL sn_qu8_dense_ukernel_64__avx2
#define SN_QD_LANES 8
#define SN_QD_MAX_PANELS 4
#define SN_QD_I __m256i
#define SN_QD_F __m256
#define SN_QD_X qd_pairs
#define SN_QD_XBCAST(quad) qd_xpairs(quad)
#define SN_QD_DOT(acc, x, p) qd_dot((acc), (x), (const int8_t *)(p))
#define SN_QD_LOAD_I(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define SN_QD_LOAD_F(p) _mm256_loadu_ps(p)
#define SN_QD_CVT_F(i) _mm256_cvtepi32_ps(i)
#define SN_QD_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define SN_QD_STORE_F(p, v, first, count) qd_store((p), (v), (first), (count))
#include "templates/qu8_dense.h"

// MARK: - Quantize (templates/qu8_quantize.h)

SN_INLINE __m256i qq_pack_256(__m256i q0, __m256i q1, __m256i q2, __m256i q3, int32_t zp) {
    const __m256i z = _mm256_set1_epi16((short)zp);
    const __m256i a = _mm256_adds_epi16(_mm256_packs_epi32(q0, q1), z), b = _mm256_adds_epi16(_mm256_packs_epi32(q2, q3), z);
    return _mm256_shuffle_epi8(_mm256_packus_epi16(a, b), _mm256_set_epi32(0x0f0b0703, 0x0e0a0602, 0x0d090501, 0x0c080400,
                                                                           0x0f0b0703, 0x0e0a0602, 0x0d090501, 0x0c080400));
}

/// All-ones in the first n (0 ... 8) int32 lanes.
SN_INLINE __m256i qq_mask_256(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

#define SN_QQ_UKERNEL sn_qu8_quantize_ukernel_8__avx2
#define SN_QQ_LANES 8
#define SN_QQ_F __m256
#define SN_QQ_I __m256i
#define SN_QQ_LOAD_F(p, n) ((n) == 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps((p), qq_mask_256(n)))
#define SN_QQ_SET1_F(x) _mm256_set1_ps(x)
#define SN_QQ_MUL_F(a, b) _mm256_mul_ps((a), (b))
#define SN_QQ_MIN_F(a, b) _mm256_min_ps((a), (b))
#define SN_QQ_ZERO_I() _mm256_setzero_si256()
#define SN_QQ_CVT_RINT(f) _mm256_cvtps_epi32(f)
#define SN_QQ_PACK(q0, q1, q2, q3, zp) qq_pack_256((q0), (q1), (q2), (q3), (zp))
#define SN_QQ_STORE(p, v, n)                                                                      \
    do {                                                                                          \
        if ((n) == 8) _mm256_storeu_si256((__m256i *)(void *)(p), (v));                           \
        else _mm256_maskstore_epi32((int *)(void *)(p), qq_mask_256(n), (v));                     \
    } while (0)
#include "templates/qu8_quantize.h"

// MARK: - Global average pool (templates/qu8_gavgpool.h): vpmaddubsw with ones (u8 x 1 pairs, at most 510: no
// saturation), then vpmaddwd with ones.

SN_INLINE __m256i qg_group(__m256i x) {
    return _mm256_shuffle_epi8(x, _mm256_set_epi32(0x0f0b0703, 0x0e0a0602, 0x0d090501, 0x0c080400, 0x0f0b0703, 0x0e0a0602,
                                                   0x0d090501, 0x0c080400));
}

SN_INLINE __m256i qg_sum4_256(__m256i acc, __m256i x) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(x, _mm256_set1_epi8(1)), _mm256_set1_epi16(1)));
}

#define SN_QG_UKERNEL sn_qu8_gavgpool_ukernel_8__avx2
#define SN_QG_PIXELS 8
#define SN_QG_V __m256i
#define SN_QG_LOAD(p, n) \
    ((n) == 8 ? _mm256_loadu_si256((const __m256i *)(const void *)(p)) : _mm256_maskload_epi32((const int *)(const void *)(p), qq_mask_256(n)))
#define SN_QG_ZERO() _mm256_setzero_si256()
#define SN_QG_SUM4(acc, x) qg_sum4_256((acc), (x))
#define SN_QG_FOLD(acc) _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256((acc), 1))
#include "templates/qu8_gavgpool.h"

// MARK: - 3x3 stride-2 average pool (templates/qu8_avgpool3x3s2.h): 8 pixels per ymm, the quantize layer's packs.

SN_INLINE __m256i qa_load_256(const uint8_t *p, ptrdiff_t n, uint32_t fill) {
    if (n == 8) return _mm256_loadu_si256((const __m256i *)(const void *)p);
    const __m256i mask = qq_mask_256((size_t)n);
    return _mm256_blendv_epi8(_mm256_set1_epi32((int)fill), _mm256_maskload_epi32((const int *)(const void *)p, mask), mask);
}

/// Even and odd dwords of a, b: each vector's own split (one in-lane-crossing permute), then the halves swapped in.
SN_INLINE void qa_split_256(__m256i a, __m256i b, __m256i *even, __m256i *odd) {
    const __m256i order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    const __m256i ta = _mm256_permutevar8x32_epi32(a, order), tb = _mm256_permutevar8x32_epi32(b, order);
    *even = _mm256_permute2x128_si256(ta, tb, 0x20);
    *odd = _mm256_permute2x128_si256(ta, tb, 0x31);
}

#define SN_QQ_CVT_F(i) _mm256_cvtepi32_ps(i)
#define SN_QA_UKERNEL sn_qu8_avgpool3x3s2_ukernel_8__avx2
#define SN_QA_V __m256i
#define SN_QA_LOAD(p, n, fill) qa_load_256((p), (n), (fill))
#define SN_QA_SET1_32(x) _mm256_set1_epi32(x)
#define SN_QA_AND(a, b) _mm256_and_si256((a), (b))
#define SN_QA_SRL16_8(v) _mm256_srli_epi16((v), 8)
#define SN_QA_ADD16(a, b) _mm256_add_epi16((a), (b))
#define SN_QA_SUB16(a, b) _mm256_sub_epi16((a), (b))
#define SN_QA_LO32(v) _mm256_madd_epi16((v), _mm256_set1_epi32(1))
#define SN_QA_HI32(v) _mm256_srai_epi32((v), 16)
#define SN_QA_SPLIT(a, b, even, odd) qa_split_256((a), (b), &(even), &(odd))
#define SN_QA_SHIFT_IN(odd, prev) _mm256_alignr_epi8((odd), _mm256_permute2x128_si256((prev), (odd), 0x21), 12)
#define SN_QA_SHIFT_IN_HALVES(odd, pad) _mm256_alignr_epi8((odd), (pad), 12)
#define SN_QA_PERMUTE(v, index) _mm256_permutevar8x32_epi32((v), (index))
#define SN_QA_MIN_BITS(f, bound) SN_QQ_MIN_F((f), (bound))
#include "templates/qu8_avgpool3x3s2.h"

// MARK: - Channel copy (templates/qu8_copy_channels.h): the compiler's vectorization of the plain-C body.

#define SN_QC_UKERNEL sn_qu8_copy_channels_ukernel__avx2
#include "templates/qu8_copy_channels.h"

#pragma clang attribute pop
#endif
