// AVX-512 VNNI int8 micro-kernels: 16 pixels per zmm, `vpdpbusd` (u8 x s8, 4 products summed into each int32 lane,
// exact: no intermediate saturation). Compiled for any x86-64 and only called through a configuration whose
// required features (AVX-512F + BW + VNNI) the CPU has (configs.c).
#include "kernels_internal.h"

#if SN_KERNELS_X86
#include <immintrin.h>
#include <string.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma"))), apply_to = function)



// The int8 vector layer (templates/qu8_pointwise.h).
#define SN_QI __m512i
#define SN_QF __m512
#define SN_QLANES 16
#define SN_QB 4
#define SN_QX __m512i
#define SN_QLOADX(p) _mm512_loadu_si512((const void *)(p))
#define SN_QW __m512i
#define SN_QLOADW(p) _mm512_set1_epi32(sn_load_quad(p))
#define SN_QDOT(acc, x, w) _mm512_dpbusd_epi32((acc), (x), (w))
#define SN_QZERO() _mm512_setzero_si512()
#define SN_QSET1_I(x) _mm512_set1_epi32(x)
#define SN_QADD_I(a, b) _mm512_add_epi32((a), (b))
#define SN_QSUB_I(a, b) _mm512_sub_epi32((a), (b))
#define SN_QAND_I(a, b) _mm512_and_si512((a), (b))
#define SN_QOR3_I(a, b, c) _mm512_ternarylogic_epi32((a), (b), (c), 0xfe)
#define SN_QOR_I(a, b) _mm512_or_si512((a), (b))
#define SN_QSLL_8(v) _mm512_slli_epi32((v), 8)
#define SN_QSLL_16(v) _mm512_slli_epi32((v), 16)
#define SN_QSLL_24(v) _mm512_slli_epi32((v), 24)
#define SN_QSRL_8(v) _mm512_srli_epi32((v), 8)
#define SN_QSRL_16(v) _mm512_srli_epi32((v), 16)
#define SN_QSRL_24(v) _mm512_srli_epi32((v), 24)
#define SN_QLOAD_I(p) _mm512_loadu_si512((const void *)(p))
#define SN_QSTORE_I(p, v) _mm512_storeu_si512((void *)(p), (v))
#define SN_QCVT_F(i) _mm512_cvtepi32_ps(i)
#define SN_QSET1_F(x) _mm512_set1_ps(x)
#define SN_QMUL_F(a, b) _mm512_mul_ps((a), (b))
#define SN_QMAX_F(a, b) _mm512_max_ps((a), (b))
#define SN_QMIN_F(a, b) _mm512_min_ps((a), (b))
#define SN_QFMA_F(a, b, c) _mm512_fmadd_ps((a), (b), (c))
/// Byte n of each 32-bit lane, zero-extended: one in-lane byte shuffle.
/// (The index is within the 128-bit lane: dword d takes byte 4d + n.)
#define SN_QBYTE(w, n) _mm512_shuffle_epi8((w), _mm512_set_epi32((int)(0x80808000u | (12u + (unsigned)(n))), (int)(0x80808000u | (8u + (unsigned)(n))), (int)(0x80808000u | (4u + (unsigned)(n))), (int)(0x80808000u | (0u + (unsigned)(n))), (int)(0x80808000u | (12u + (unsigned)(n))), (int)(0x80808000u | (8u + (unsigned)(n))), (int)(0x80808000u | (4u + (unsigned)(n))), (int)(0x80808000u | (0u + (unsigned)(n))), (int)(0x80808000u | (12u + (unsigned)(n))), (int)(0x80808000u | (8u + (unsigned)(n))), (int)(0x80808000u | (4u + (unsigned)(n))), (int)(0x80808000u | (0u + (unsigned)(n))), (int)(0x80808000u | (12u + (unsigned)(n))), (int)(0x80808000u | (8u + (unsigned)(n))), (int)(0x80808000u | (4u + (unsigned)(n))), (int)(0x80808000u | (0u + (unsigned)(n)))))
/// Two unsigned-saturating packs give, per 128-bit lane, rows 0-3 of its 4 pixels as bytes (0 ... 255, channel
/// major); one byte shuffle transposes each lane's 4 x 4 to pixel-major: byte 4p + r <- byte 4r + p.
#define SN_QPACK4(q0, q1, q2, q3) \
    _mm512_shuffle_epi8(_mm512_packus_epi16(_mm512_packus_epi32((q0), (q1)), _mm512_packus_epi32((q2), (q3))), \
                     _mm512_set_epi32(0x0f0b0703, 0x0e0a0602, 0x0d090501, 0x0c080400, 0x0f0b0703, 0x0e0a0602, 0x0d090501, 0x0c080400, 0x0f0b0703, 0x0e0a0602, 0x0d090501, 0x0c080400, 0x0f0b0703, 0x0e0a0602, 0x0d090501, 0x0c080400))
#define SN_QPACK_SATURATES 1
#define SN_QCVT_RINT(f) _mm512_cvtps_epi32(f)

// The tail (defined after the template, which defines the panel struct it reads).
struct qpw_panel;
SN_INLINE void qpw_tail(const sn_qu8_pointwise_params *a, const struct qpw_panel *t, ptrdiff_t p, int tail, const int R,
                        const int RELU, const int RES, const int ZP0);
#define SN_QPW_TAIL(a, panel, p, tail, R, RELU, RES, ZP0) qpw_tail((a), (panel), (p), (tail), (R), (RELU), (RES), (ZP0))

// 8 x 3 accumulators, 3 input vectors and a broadcast (embedded in vpdpbusd) of the 32 registers.
#define SN_QPW_UKERNEL sn_qu8_pointwise_ukernel_8x48__avx512vnni
#define SN_QPW_MR 8
#define SN_QPW_NV 3
#include "templates/qu8_pointwise.h"

// The tail: up to 4 pixels after the last whole vector, with the panel's rows in the lanes of a ymm (8 rows x 4
// bytes of one quad are one 32-byte load of the packed panel, as they are side by side), each pixel's quad broadcast:
// per quad one `vpdpbusd` per pixel for all R rows, where a mostly empty pixel vector costs R of them (a 7x7 plane
// is 3 vectors and 1 pixel instead of 4 vectors). The epilogue is the template's arithmetic on row lanes, with the
// per-row constants loaded as vectors and both float clamps (no saturating pack here).
SN_INLINE void qpw_tail(const sn_qu8_pointwise_params *a, const struct qpw_panel *t, ptrdiff_t p, int tail, const int R,
                        const int RELU, const int RES, const int ZP0) {
    const __mmask8 rows = (__mmask8)((1u << R) - 1);
    const ptrdiff_t xs = a->input_block_stride, ws = t->width * 4;
    __m256i acc[4];
    const __m256i terms = _mm256_maskz_loadu_epi32(rows, t->terms);
    for (int c = 0; c < 4; c++) acc[c] = terms;
    const uint8_t *xp = t->input + 4 * p;
    const int8_t *wp = t->weights;
    for (ptrdiff_t q = 0; q < a->quads; q++, xp += xs, wp += ws) {
        const __m256i w = _mm256_maskz_loadu_epi32(rows, wp);
        for (int c = 0; c < 4; c++) {
            if (c < tail) acc[c] = _mm256_dpbusd_epi32(acc[c], _mm256_set1_epi32((int)sn_load_quad((const int8_t *)xp + 4 * c)), w);
        }
    }
    const __m256 m = _mm256_maskz_loadu_ps(rows, t->multipliers), b = _mm256_maskz_loadu_ps(rows, t->bias);
    const __m256 inv = _mm256_maskz_loadu_ps(rows, t->inv_out), high = _mm256_maskz_loadu_ps(rows, t->high);
    const __m256 low = RELU ? _mm256_setzero_ps() : _mm256_maskz_loadu_ps(rows, t->low);
    const __m256i zero_out = _mm256_maskz_loadu_epi32(rows, t->zero_out);
    for (int c = 0; c < tail; c++) {
        const ptrdiff_t at = 4 * (p + c);
        __m256 v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[c]), m, b);
        if (RES) {
            // Row r's residual: byte r % 4 of pixel p + c in block r / 4.
            int32_t lo, hi = 0;
            memcpy(&lo, t->residual + at, 4);
            if (R == 8) memcpy(&hi, t->residual + a->residual_block_stride + at, 4);
            __m256i r = _mm256_cvtepu8_epi32(_mm_set_epi32(0, 0, hi, lo));
            if (!ZP0) r = _mm256_sub_epi32(r, _mm256_set1_epi32(a->residual_zero_point));
            v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(r), _mm256_set1_ps(a->residual_scale), v);
        }
        __m256 s = _mm256_mul_ps(v, inv);
        s = _mm256_min_ps(_mm256_max_ps(s, low), high);
        const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(s), zero_out);
        const __m128i bytes = _mm256_cvtepi32_epi8(q);  // rows 0-3 in dword 0, rows 4-7 in dword 1
        const int32_t first = _mm_cvtsi128_si32(bytes);
        memcpy(t->output + at, &first, 4);
        if (R == 8) {
            const int32_t second = _mm_extract_epi32(bytes, 1);
            memcpy(t->output + a->output_block_stride + at, &second, 4);
        }
    }
}

#pragma clang attribute pop
#endif
