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
#define SN_DSHIFTW(w) _mm512_slli_epi32((w), 8)
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
#define SN_DUNZIP_S2(v) _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), (v))
#define SN_DSTORE_PART(p, v, n, at)                                                                               \
    _mm512_mask_storeu_epi32((void *)(p), (__mmask16)((1u << (n)) - 1), _mm512_alignr_epi32((v), (v), (at)))
#define SN_DSTORE(p, v) _mm512_storeu_si512((void *)(p), (v))

/// One scratch row from its 4 source blocks: per slot a load of 16 dwords and one `vpshufb` moving byte shift[j]
/// of each dword to byte j, merged under a mask of the bytes j (a padding slot: an empty mask, on any real
/// block), so that the 4 slots need no or; whole vectors, masked only where a load would leave the block's room.
typedef struct qdw_gather_state {
    const uint8_t *base[4];
    __m512i ctrl[4];
    __mmask64 keep[4];
} qdw_gather_state;

SN_INLINE qdw_gather_state qdw_gather_setup(const uint8_t *const base[4], const int shift[4]) {
    qdw_gather_state g;
    const uint8_t *any = base[0] ? base[0] : base[1] ? base[1] : base[2] ? base[2] : base[3];
    for (int j = 0; j < 4; j++) {
        g.base[j] = base[j] ? base[j] : any;
        g.keep[j] = base[j] ? (__mmask64)(0x1111111111111111ull << j) : 0;
        // Byte 4i + j of each 128-bit lane takes byte 4i + shift[j].
        g.ctrl[j] = _mm512_add_epi8(_mm512_set1_epi8((char)shift[j]), _mm512_broadcast_i32x4(_mm_setr_epi8(0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12)));
    }
    return g;
}

SN_INLINE __m512i qdw_gather16(const qdw_gather_state *g, ptrdiff_t at, __mmask16 m) {
    __m512i v = _mm512_setzero_si512();
    for (int j = 0; j < 4; j++) v = _mm512_mask_shuffle_epi8(v, g->keep[j], _mm512_maskz_loadu_epi32(m, g->base[j] + at), g->ctrl[j]);
    return v;
}

SN_INLINE void qdw_gather_row(const qdw_gather_state *g, uint32_t *out, ptrdiff_t at, ptrdiff_t w, ptrdiff_t room) {
    ptrdiff_t x = 0;
    for (; x < w && x + 16 <= room; x += 16) _mm512_storeu_si512((void *)(out + x), qdw_gather16(g, at + 4 * x, (__mmask16)0xffff));
    for (; x < w; x += 16) {
        const __mmask16 m = w - x >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (w - x)) - 1);
        _mm512_storeu_si512((void *)(out + x), qdw_gather16(g, at + 4 * x, m));
    }
}

#define SN_DGATHER_SETUP(base, shift) const qdw_gather_state gather_ = qdw_gather_setup((base), (shift))
#define SN_DGATHER_ROW(out, at, w, room) qdw_gather_row(&gather_, (out), (at), (w), (room))

#define SN_DPACK_SATURATES 1

#define SN_QDW_UKERNEL sn_qu8_dwconv3x3_ukernel_16__avx512vnni
#include "templates/qu8_dwconv3x3.h"

#pragma clang attribute pop
#endif
