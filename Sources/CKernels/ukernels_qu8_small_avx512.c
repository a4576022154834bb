// AVX-512 micro-kernels of the small int8 operators (qu8_small_internal.h): 16 int32 / float lanes, 64 bytes of a
// channel block (16 pixels x 4 channels) per zmm. Compiled for any x86-64 and only called through a configuration
// whose required features the CPU has (qu8_small_ops.c): AVX-512F + VNNI, which every CPU with AVX-512 VNNI pairs
// with BW and VL (as the int8 pointwise kernels assume).
#include "qu8_small_internal.h"

#if SN_KERNELS_X86
#include <immintrin.h>
#include <string.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma"))), apply_to = function)

// MARK: - Dense (templates/qu8_dense.h): vpdpbusd of the broadcast input quad (u8) with 16 rows' s8 quads.

#define SN_QD_UKERNEL sn_qu8_dense_ukernel_128__avx512vnni
#define SN_QD_LANES 16
#define SN_QD_MAX_PANELS 8
#define SN_QD_I __m512i
#define SN_QD_F __m512
#define SN_QD_X __m512i
#define SN_QD_XBCAST(quad) _mm512_set1_epi32((int)(quad))
#define SN_QD_DOT(acc, x, p) _mm512_dpbusd_epi32((acc), (x), _mm512_loadu_si512((const void *)(p)))
#define SN_QD_LOAD_I(p) _mm512_loadu_si512((const void *)(p))
#define SN_QD_LOAD_F(p) _mm512_loadu_ps(p)
#define SN_QD_CVT_F(i) _mm512_cvtepi32_ps(i)
#define SN_QD_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define SN_QD_STORE_F(p, v, first, count) \
    _mm512_mask_storeu_ps((p), (__mmask16)((((1u << (count)) - 1u) << (first)) & 0xffffu), (v))
#include "templates/qu8_dense.h"

// MARK: - Quantize (templates/qu8_quantize.h)

/// The in-lane transpose after the packs: byte 4p + c <- byte 4c + p of each 128-bit lane.
#define SN_QQ_TRANSPOSE_512                                                                                         \
    _mm512_set_epi32(0x0f0b0703, 0x0e0a0602, 0x0d090501, 0x0c080400, 0x0f0b0703, 0x0e0a0602, 0x0d090501, 0x0c080400, \
                     0x0f0b0703, 0x0e0a0602, 0x0d090501, 0x0c080400, 0x0f0b0703, 0x0e0a0602, 0x0d090501, 0x0c080400)

SN_INLINE __m512i qq_pack_512(__m512i q0, __m512i q1, __m512i q2, __m512i q3, int32_t zp) {
    const __m512i z = _mm512_set1_epi16((short)zp);
    const __m512i a = _mm512_adds_epi16(_mm512_packs_epi32(q0, q1), z), b = _mm512_adds_epi16(_mm512_packs_epi32(q2, q3), z);
    return _mm512_shuffle_epi8(_mm512_packus_epi16(a, b), SN_QQ_TRANSPOSE_512);
}

#define SN_QQ_UKERNEL sn_qu8_quantize_ukernel_16__avx512bw
#define SN_QQ_LANES 16
#define SN_QQ_F __m512
#define SN_QQ_I __m512i
#define SN_QQ_LOAD_F(p, n) ((n) == 16 ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1u), (p)))
#define SN_QQ_SET1_F(x) _mm512_set1_ps(x)
#define SN_QQ_MUL_F(a, b) _mm512_mul_ps((a), (b))
/// min(s, bound) for a positive bound as a signed integer min of the bits (the same order for every float but a
/// NaN, which becomes the bound as minps makes it): on the integer ALUs, not the FP pipes the mul and cvt use.
#define SN_QQ_MIN_F(a, b) _mm512_castsi512_ps(_mm512_min_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b)))
#define SN_QQ_ZERO_I() _mm512_setzero_si512()
#define SN_QQ_CVT_RINT(f) _mm512_cvtps_epi32(f)
#define SN_QQ_PACK(q0, q1, q2, q3, zp) qq_pack_512((q0), (q1), (q2), (q3), (zp))
#define SN_QQ_STORE(p, v, n) \
    ((n) == 16 ? _mm512_storeu_si512((void *)(p), (v)) : _mm512_mask_storeu_epi32((void *)(p), (__mmask16)((1u << (n)) - 1u), (v)))
#include "templates/qu8_quantize.h"

// MARK: - Global average pool (templates/qu8_gavgpool.h)

SN_INLINE __m512i qg_group(__m512i x) { return _mm512_shuffle_epi8(x, SN_QQ_TRANSPOSE_512); }

SN_INLINE __m128i qg_fold_512(__m512i acc) {
    const __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(acc), _mm512_extracti64x4_epi64(acc, 1));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

#define SN_QG_UKERNEL sn_qu8_gavgpool_ukernel_16__avx512vnni
#define SN_QG_PIXELS 16
#define SN_QG_V __m512i
#define SN_QG_LOAD(p, n) \
    ((n) == 16 ? _mm512_loadu_si512((const void *)(p)) : _mm512_maskz_loadu_epi32((__mmask16)((1u << (n)) - 1u), (const void *)(p)))
#define SN_QG_ZERO() _mm512_setzero_si512()
#define SN_QG_SUM4(acc, x) _mm512_dpbusd_epi32((acc), (x), _mm512_set1_epi8(1))
#define SN_QG_FOLD(acc) qg_fold_512(acc)
#include "templates/qu8_gavgpool.h"

// MARK: - 3x3 stride-2 average pool (templates/qu8_avgpool3x3s2.h): 16 pixels per zmm, the quantize layer's packs.

SN_INLINE __m512i qa_load_512(const uint8_t *p, ptrdiff_t n, uint32_t fill) {
    return n == 16 ? _mm512_loadu_si512((const void *)p)
                   : _mm512_mask_loadu_epi32(_mm512_set1_epi32((int)fill), (__mmask16)((1u << n) - 1u), p);
}

#define SN_QQ_CVT_F(i) _mm512_cvtepi32_ps(i)
#define SN_QA_UKERNEL sn_qu8_avgpool3x3s2_ukernel_16__avx512bw
#define SN_QA_V __m512i
#define SN_QA_LOAD(p, n, fill) qa_load_512((p), (n), (fill))
#define SN_QA_SET1_32(x) _mm512_set1_epi32(x)
#define SN_QA_AND(a, b) _mm512_and_si512((a), (b))
#define SN_QA_SRL16_8(v) _mm512_srli_epi16((v), 8)
#define SN_QA_ADD16(a, b) _mm512_add_epi16((a), (b))
#define SN_QA_SUB16(a, b) _mm512_sub_epi16((a), (b))
/// vpmaddwd with (1, 0): the low int16 sign-extended in one op (a shift pair otherwise).
#define SN_QA_LO32(v) _mm512_madd_epi16((v), _mm512_set1_epi32(1))
#define SN_QA_HI32(v) _mm512_srai_epi32((v), 16)
#define SN_QA_SPLIT(a, b, even, odd)                                                                                     \
    do {                                                                                                                 \
        (even) = _mm512_permutex2var_epi32((a), _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), (b)); \
        (odd) = _mm512_permutex2var_epi32((a), _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), (b));  \
    } while (0)
#define SN_QA_SHIFT_IN(odd, prev) _mm512_alignr_epi32((odd), (prev), 15)
#define SN_QA_SHIFT_IN_HALVES(odd, pad) \
    _mm512_permutex2var_epi32((odd), _mm512_setr_epi32(16, 0, 1, 2, 3, 4, 5, 6, 16, 8, 9, 10, 11, 12, 13, 14), (pad))
#define SN_QA_PERMUTE(v, index) _mm512_permutexvar_epi32((index), (v))
#define SN_QA_MIN_BITS(f, bound) SN_QQ_MIN_F((f), (bound))
#include "templates/qu8_avgpool3x3s2.h"

// MARK: - Channel copy (templates/qu8_copy_channels.h): the compiler's vectorization of the plain-C body.

#define SN_QC_UKERNEL sn_qu8_copy_channels_ukernel__avx512bw
#include "templates/qu8_copy_channels.h"

#pragma clang attribute pop
#endif
