// AVX-512 VNNI int8 depthwise micro-kernel (templates/qu8_dwconv3x3.h): 16 pixels x 4 channels per zmm, 4 taps
// per `vpdpbusd`. Compiled for any x86-64 and only called through a configuration whose required features the
// CPU has (configs.c).
#include "kernels_internal.h"

#if SN_KERNELS_X86
#include <immintrin.h>
#include <string.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma"))), apply_to = function)


#define SN_DLANES 16
#define SN_DV __m512i
#define SN_DF __m512
#define SN_DW __m512i
/// The 4x4 byte transpose of every 128-bit lane: byte 4j + t takes byte 4t + j (4 pixels x 4 channels in, 4
/// channels x those pixels out), so a lane loaded at pixel x - 1 becomes channel j's taps (x - 1, x, x + 1, x + 2).
#define SN_DWIN_T() _mm512_broadcast_i32x4(_mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15))
#define SN_DWIN(p) _mm512_shuffle_epi8(_mm512_loadu_si512((const void *)(p)), SN_DWIN_T())
/// Stride 2: lanes at p + 0, 8, 16, 24 pixels (lanes 0 and 2 of two loads).
#define SN_DWIN_S2(p)                                                                                             \
    _mm512_shuffle_epi8(_mm512_shuffle_i32x4(_mm512_loadu_si512((const void *)(p)),                               \
                                             _mm512_loadu_si512((const void *)((p) + 64)), 0x88),                 \
                        SN_DWIN_T())
/// Pairs: the low half (lanes at p + 0, 4 pixels; stride 2: 0, 8) from one row, the high half from another.
#define SN_DWIN_HALVES(p, q)                                                                                      \
    _mm512_shuffle_epi8(_mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(const void *)(p))), \
                                           _mm256_loadu_si256((const __m256i *)(const void *)(q)), 1),            \
                        SN_DWIN_T())
#define SN_DWIN_HALVES_S2(p, q)                                                                                   \
    _mm512_shuffle_epi8(_mm512_shuffle_i32x4(_mm512_loadu_si512((const void *)(p)),                               \
                                             _mm512_loadu_si512((const void *)(q)), 0x88),                        \
                        SN_DWIN_T())
#define SN_DLOADW(rec, q) _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)(rec)->w[q]))
#define SN_DDOT(acc, x, w) _mm512_dpbusd_epi32((acc), (x), (w))
#define SN_DPATTERN_I(p) _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define SN_DPATTERN_F(p) _mm512_broadcast_f32x4(_mm_loadu_ps(p))
#define SN_DCVT_F(i) _mm512_cvtepi32_ps(i)
#define SN_DFMA_F(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define SN_DMUL_F(a, b) _mm512_mul_ps((a), (b))
#define SN_DMIN_F(a, b) _mm512_min_ps((a), (b))
#define SN_DMAX_F(a, b) _mm512_max_ps((a), (b))
#define SN_DCVT_RINT(f) _mm512_cvtps_epi32(f)
#define SN_DADD_I(a, b) _mm512_add_epi32((a), (b))
#define SN_DPACK(q0, q1, q2, q3) _mm512_packus_epi16(_mm512_packus_epi32((q0), (q1)), _mm512_packus_epi32((q2), (q3)))
#define SN_DSTORE(p, v) _mm512_storeu_si512((void *)(p), (v))

/// One scratch row from its 4 source blocks: per slot a masked load of 16 dwords, one `vpshufb` moving byte
/// shift[j] of each dword to byte j (the others zeroed), or-ed together; masked at the row's end, so nothing past
/// the plane is read (the source block may end there) or written.
/// The `vpshufb` controls of the 4 slots: byte 4i + j of each 128-bit lane takes byte 4i + shift[j]; 0x80 zeroes
/// the others.
SN_INLINE void qdw_gather_controls(const int shift[4], __m512i ctrl[4]) {
    for (int j = 0; j < 4; j++) {
        const uint32_t c = (0x80808080u & ~(0xffu << (8 * j))) | ((uint32_t)shift[j] << (8 * j));
        ctrl[j] = _mm512_add_epi8(_mm512_set1_epi32((int32_t)c),
                                  _mm512_and_si512(_mm512_set1_epi32((int32_t)(0xffu << (8 * j))),
                                                   _mm512_set4_epi32(0x0c0c0c0c, 0x08080808, 0x04040404, 0)));
    }
}

SN_INLINE void qdw_gather_row(uint32_t *out, const uint8_t *const base[4], const __m512i ctrl[4], ptrdiff_t at, ptrdiff_t w) {
    for (ptrdiff_t x = 0; x < w; x += 16) {
        const __mmask16 m = w - x >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (w - x)) - 1);
        __m512i v = _mm512_setzero_si512();
        for (int j = 0; j < 4; j++) {
            if (!base[j]) continue;
            v = _mm512_or_si512(v, _mm512_shuffle_epi8(_mm512_maskz_loadu_epi32(m, base[j] + at + 4 * x), ctrl[j]));
        }
        _mm512_mask_storeu_epi32(out + x, m, v);
    }
}

#define SN_DGATHER_SETUP(shift) \
    __m512i gather_ctrl_[4];    \
    qdw_gather_controls((shift), gather_ctrl_)
#define SN_DGATHER_ROW(out, base, shift, at, w) qdw_gather_row((out), (base), gather_ctrl_, (at), (w))

#define SN_DPACK_SATURATES 1

#define SN_QDW_UKERNEL sn_qu8_dwconv3x3_ukernel_16__avx512vnni
#include "templates/qu8_dwconv3x3.h"

#pragma clang attribute pop
#endif
