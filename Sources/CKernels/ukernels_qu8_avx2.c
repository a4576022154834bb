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


// The int8 vector layer (templates/qu8_pointwise.h).
#define SN_QB 8
#define SN_QX qx_pairs
#define SN_QLOADX(p) load_pairs(p)
#define SN_QW qw_pairs
#define SN_QLOADW(p) ((qw_pairs){_mm256_set1_epi32(sn_load_quad(p)), _mm256_set1_epi32(sn_load_quad((p) + 4))})
#define SN_QDOT(acc, x, w) \
    _mm256_add_epi32((acc), _mm256_add_epi32(_mm256_madd_epi16((x).even, (w).even), _mm256_madd_epi16((x).odd, (w).odd)))
#include "templates/qu8_vector_layer_avx256.h"

// 4 x 2 accumulators, 2 x 2 input halves and 2 weight pairs: 14 of the 16 registers.
#define SN_QPW_UKERNEL sn_qu8_pointwise_ukernel_4x16__avx2
#define SN_QPW_MR 4
#define SN_QPW_NV 2
#include "templates/qu8_pointwise.h"

#pragma clang attribute pop
#endif
