// AVX2 int8 micro-kernels for CPUs without VNNI: 8 pixels per ymm, `vpmaddwd` on 16-bit operands. Not
// `vpmaddubsw`: it adds two u8 x s8 products into a *saturating* int16, and 255 * 127 * 2 = 64770 does saturate on
// real data (Scripts/int8_study.md: 0.5x g8 agreed with fp32 on 13 of 50 photos that way). Here each quad of u8
// inputs is split into its even and odd bytes, zero-extended to int16 (one `and`, one 16-bit shift), and
// `vpmaddwd` against the (w0, w2) and (w1, w3) int16 pairs of the packed weights gives exact int32 sums.
// Compiled for any x86-64 and only called through a configuration whose required features (AVX2 + FMA) the CPU
// has (configs.c).
#include "kernels_internal.h"

#if SN_KERNELS_X86
#include <immintrin.h>
#include <string.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

#define SN_INLINE static inline __attribute__((always_inline))

/// A vector of 8 pixels x 4 channels as its even bytes (channels 0 and 2) and odd bytes (1 and 3), as int16.
typedef struct qx_pairs {
    __m256i even, odd;
} qx_pairs;

SN_INLINE qx_pairs load_pairs(const uint8_t *p) {
    const __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)p);
    return (qx_pairs){_mm256_and_si256(x, _mm256_set1_epi16(0xff)), _mm256_srli_epi16(x, 8)};
}

/// One row's quad as packed: (w0, w2) and (w1, w3), each pair of int16 broadcast to every 32-bit lane.
typedef struct qw_pairs {
    __m256i even, odd;
} qw_pairs;

SN_INLINE int32_t load_quad(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

// The int8 vector layer (templates/qu8_pointwise.h).
#define SN_QI __m256i
#define SN_QF __m256
#define SN_QLANES 8
#define SN_QB 8
#define SN_QX qx_pairs
#define SN_QLOADX(p) load_pairs(p)
#define SN_QW qw_pairs
#define SN_QLOADW(p) ((qw_pairs){_mm256_set1_epi32(load_quad(p)), _mm256_set1_epi32(load_quad((p) + 4))})
#define SN_QDOT(acc, x, w) \
    _mm256_add_epi32((acc), _mm256_add_epi32(_mm256_madd_epi16((x).even, (w).even), _mm256_madd_epi16((x).odd, (w).odd)))
#define SN_QZERO() _mm256_setzero_si256()
#define SN_QSET1_I(x) _mm256_set1_epi32(x)
#define SN_QADD_I(a, b) _mm256_add_epi32((a), (b))
#define SN_QSUB_I(a, b) _mm256_sub_epi32((a), (b))
#define SN_QAND_I(a, b) _mm256_and_si256((a), (b))
#define SN_QOR3_I(a, b, c) _mm256_or_si256(_mm256_or_si256((a), (b)), (c))
#define SN_QOR_I(a, b) _mm256_or_si256((a), (b))
#define SN_QSLL_8(v) _mm256_slli_epi32((v), 8)
#define SN_QSLL_16(v) _mm256_slli_epi32((v), 16)
#define SN_QSLL_24(v) _mm256_slli_epi32((v), 24)
#define SN_QSRL_8(v) _mm256_srli_epi32((v), 8)
#define SN_QSRL_16(v) _mm256_srli_epi32((v), 16)
#define SN_QSRL_24(v) _mm256_srli_epi32((v), 24)
#define SN_QLOAD_I(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define SN_QSTORE_I(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))
#define SN_QCVT_F(i) _mm256_cvtepi32_ps(i)
#define SN_QSET1_F(x) _mm256_set1_ps(x)
#define SN_QMUL_F(a, b) _mm256_mul_ps((a), (b))
#define SN_QMAX_F(a, b) _mm256_max_ps((a), (b))
#define SN_QMIN_F(a, b) _mm256_min_ps((a), (b))
#define SN_QFMA_F(a, b, c) _mm256_fmadd_ps((a), (b), (c))
/// Byte n of each 32-bit lane, zero-extended: one in-lane byte shuffle.
/// (The index is within the 128-bit lane: dword d takes byte 4d + n.)
#define SN_QBYTE(w, n) _mm256_shuffle_epi8((w), _mm256_set_epi32((int)(0x80808000u | (12u + (unsigned)(n))), (int)(0x80808000u | (8u + (unsigned)(n))), (int)(0x80808000u | (4u + (unsigned)(n))), (int)(0x80808000u | (0u + (unsigned)(n))), (int)(0x80808000u | (12u + (unsigned)(n))), (int)(0x80808000u | (8u + (unsigned)(n))), (int)(0x80808000u | (4u + (unsigned)(n))), (int)(0x80808000u | (0u + (unsigned)(n)))))
/// Two unsigned-saturating packs give, per 128-bit lane, rows 0-3 of its 4 pixels as bytes (0 ... 255, channel
/// major); one byte shuffle transposes each lane's 4 x 4 to pixel-major: byte 4p + r <- byte 4r + p.
#define SN_QPACK4(q0, q1, q2, q3) \
    _mm256_shuffle_epi8(_mm256_packus_epi16(_mm256_packus_epi32((q0), (q1)), _mm256_packus_epi32((q2), (q3))), \
                     _mm256_set_epi32(0x0f0b0703, 0x0e0a0602, 0x0d090501, 0x0c080400, 0x0f0b0703, 0x0e0a0602, 0x0d090501, 0x0c080400))
#define SN_QPACK_SATURATES 1
#define SN_QCVT_RINT(f) _mm256_cvtps_epi32(f)

// 4 x 2 accumulators, 2 x 2 input halves and 2 weight pairs: 14 of the 16 registers.
#define SN_QPW_UKERNEL sn_qu8_pointwise_ukernel_4x16__avx2
#define SN_QPW_MR 4
#define SN_QPW_NV 2
#include "templates/qu8_pointwise.h"

#pragma clang attribute pop
#endif
