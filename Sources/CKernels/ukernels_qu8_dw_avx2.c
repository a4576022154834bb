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
/// n (< 8) pixels of v from pixel `at` on (`at` is 0 or 4).
SN_INLINE void qdw_store_part(uint8_t *p, __m256i v, ptrdiff_t n, int at) {
    if (at) v = _mm256_permute2x128_si256(v, v, 0x01);
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_maskstore_epi32((int *)(void *)p, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), lanes), v);
}
#define SN_DSTORE_PART(p, v, n, at) qdw_store_part((p), (v), (n), (at))
#define SN_DSTORE(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))

/// One scratch row from its 4 source blocks (ukernels_qu8_dw_avx512vnni.c): per slot a load of 8 dwords and one
/// `vpshufb` moving byte shift[j] of each dword to byte j (0x80, zero, elsewhere; a padding slot's control all
/// 0x80, on any real block), or-ed together; whole vectors while a load stays in the block's room, the rest in C.
typedef struct qdw_gather_state {
    const uint8_t *base[4];
    int shift[4], real[4];
    __m256i ctrl[4];
} qdw_gather_state;

SN_INLINE qdw_gather_state qdw_gather_setup(const uint8_t *const base[4], const int shift[4]) {
    qdw_gather_state g;
    const uint8_t *any = base[0] ? base[0] : base[1] ? base[1] : base[2] ? base[2] : base[3];
    for (int j = 0; j < 4; j++) {
        g.base[j] = base[j];
        g.shift[j] = shift[j];
        g.real[j] = base[j] != NULL;
        const uint32_t c = base[j] ? (0x80808080u & ~(0xffu << (8 * j))) | ((uint32_t)shift[j] << (8 * j)) : 0x80808080u;
        const uint32_t step = base[j] ? 0x04040404u & (0xffu << (8 * j)) : 0;
        g.ctrl[j] = _mm256_add_epi8(_mm256_set1_epi32((int32_t)c),
                                    _mm256_setr_epi32(0, (int32_t)step, (int32_t)(2 * step), (int32_t)(3 * step), 0,
                                                      (int32_t)step, (int32_t)(2 * step), (int32_t)(3 * step)));
        if (!base[j]) g.base[j] = any;
    }
    return g;
}

SN_INLINE void qdw_gather_row(const qdw_gather_state *g, uint32_t *out, ptrdiff_t at, ptrdiff_t w, ptrdiff_t room) {
    ptrdiff_t x = 0;
    for (; x < w && x + 8 <= room; x += 8) {
        __m256i v[4];
        for (int j = 0; j < 4; j++)
            v[j] = _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(const void *)(g->base[j] + at + 4 * x)), g->ctrl[j]);
        _mm256_storeu_si256((__m256i *)(void *)(out + x), _mm256_or_si256(_mm256_or_si256(v[0], v[1]), _mm256_or_si256(v[2], v[3])));
    }
    for (; x < w; x++) {
        uint32_t d = 0;
        for (int j = 0; j < 4; j++) {
            if (g->real[j]) d |= (uint32_t)g->base[j][at + 4 * x + g->shift[j]] << (8 * j);
        }
        out[x] = d;
    }
}

#define SN_DGATHER_SETUP(base, shift) const qdw_gather_state gather_ = qdw_gather_setup((base), (shift))
#define SN_DGATHER_ROW(out, at, w, room) qdw_gather_row(&gather_, (out), (at), (w), (room))

#define SN_DPACK_SATURATES 1

#define SN_QDW_UKERNEL sn_qu8_dwconv3x3_ukernel_8__avx2
#include "templates/qu8_dwconv3x3.h"

#pragma clang attribute pop
#endif
