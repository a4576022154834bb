// AVX-512F micro-kernels: 16 floats per register, 32 registers. Compiled for any x86-64 (every function here
// carries the target attribute of the pragma below) and only called through a configuration whose required
// features the CPU has (configs.c).
#include "kernels_internal.h"

#if SN_KERNELS_X86
#include <immintrin.h>
#include <string.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)


// The vector layer the templates are written against (templates/vector_layer.h).
#define SN_V __m512
#define SN_LANES 16
#define SN_VLOAD(p) _mm512_loadu_ps(p)
#define SN_VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define SN_VSET1(x) _mm512_set1_ps(x)
#define SN_VZERO() _mm512_setzero_ps()
#define SN_VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define SN_VADD(a, b) _mm512_add_ps((a), (b))
#define SN_VMAX(a, b) _mm512_max_ps((a), (b))
/// Lanes 0 ..< n of p (n <= 16), the others zero; nothing past them is read.
#define SN_VLOAD_LANES(p, n) _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1), (p))
#define SN_VSTORE_LANES(p, v, n) _mm512_mask_storeu_ps((p), (__mmask16)((1u << (n)) - 1), (v))
#define SN_VREDUCE_ADD(v) _mm512_reduce_add_ps(v)
#define SN_PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
/// Whether a masked store of every lane costs what a plain store costs (the templates then skip the test for a
/// whole vector).
#define SN_MASKED_STORE_IS_FREE 1

#define SN_POINTWISE_UKERNEL sn_f32_pointwise_ukernel_8x48__avx512f
#define SN_POINTWISE_MR 8
#define SN_POINTWISE_NV 3
#define SN_POINTWISE_TAIL_MAX 4
#include "templates/f32_pointwise.h"

#define SN_DENSE_UKERNEL sn_f32_dense_ukernel_4x16__avx512f
#include "templates/f32_dense.h"

// binary16 weights (the int8 recheck network's classifier, kept at 2 bytes a weight): vcvtph2ps as they load.
SN_INLINE __m512 load_half16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)p)); }
SN_INLINE __m512 load_half16_lanes(const uint16_t *p, size_t n) {
    uint16_t lanes[16] = {0};
    memcpy(lanes, p, n * sizeof(uint16_t));
    return load_half16(lanes);
}
#define SN_DENSE_UKERNEL sn_f16_dense_ukernel_4x16__avx512f
#define SN_DENSE_WEIGHT uint16_t
#define SN_DENSE_LOAD_W(p) load_half16(p)
#define SN_DENSE_LOAD_W_LANES(p, n) load_half16_lanes((p), (n))
#include "templates/f32_dense.h"

// MARK: - Not from a template: the depthwise convolution in place (masked loads stand in for the padding). The AVX2
// and portable configurations use the padded-plane template instead: this algorithm leans on AVX-512's mask
// registers and lane shifts, and measured faster than the padded-plane kernel here.

/// Lanes `0 <= start + l < limit` of a 16-float load starting at column `start` of a row `limit` wide.
SN_INLINE __mmask16 columns_inside(ptrdiff_t start, ptrdiff_t limit) {
    const ptrdiff_t lo = start < 0 ? -start : 0, hi = limit - start < 16 ? limit - start : 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
}

/// Lanes of the 16 pixels from flat index q of an `height x width` plane, as bit masks: those inside the plane,
/// and those whose neighbour above / below / left / right is inside it too (i.e. whose tap is not padding).
typedef struct plane_lanes {
    __mmask16 inside, up, down, left, right;
} plane_lanes;

SN_INLINE plane_lanes lanes_of_block(ptrdiff_t q, ptrdiff_t height, ptrdiff_t width) {
    const ptrdiff_t pixels = height * width;
    unsigned inside = 0, up = 0, down = 0, left = 0, right = 0;
    ptrdiff_t x = q % width;
    for (int l = 0; l < 16; l++) {
        const ptrdiff_t p = q + l;
        if (p < pixels) {
            inside |= 1u << l;
            if (p >= width) up |= 1u << l;
            if (p < pixels - width) down |= 1u << l;
            if (x != 0) left |= 1u << l;
            if (x != width - 1) right |= 1u << l;
        }
        if (++x == width) x = 0;
    }
    return (plane_lanes){(__mmask16)inside, (__mmask16)up, (__mmask16)down, (__mmask16)left, (__mmask16)right};
}

/// Pixel blocks whose masks are worked out together (a 56x56 plane in 4 tiles, 28x28 in one).
enum { DEPTHWISE_TILE_BLOCKS = 64 };

/// `(v, next)` shifted by `n` lanes: lanes n.. of v, then lanes ..n-1 of next (`valignd`).
#define SN_SHIFT(next, v, n) _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(next), _mm512_castps_si512(v), n))

/// The three column sums of a stride-1 window at the 16 pixels from q: for each tap column kx, the sum over the
/// window rows dy of tap (dy, kx) times the input vector at q + (dy - 1) * width (masked loads: rows outside the
/// plane read as zero). `mid` starts at `init` (the bias or zero).
typedef struct column_sums {
    __m512 left, mid, right;
} column_sums;

SN_INLINE column_sums column_sums_at(const float *src, ptrdiff_t q, ptrdiff_t width, ptrdiff_t pixels, const __m512 *taps,
                                     __m512 init, const __mmask16 *load_masks) {
    column_sums s = {_mm512_setzero_ps(), init, _mm512_setzero_ps()};
#pragma clang loop unroll(full)
    for (int dy = 0; dy < 3; dy++) {
        const ptrdiff_t at = q + (dy - 1) * width;
        const __m512 x = _mm512_maskz_loadu_ps(load_masks ? load_masks[dy] : columns_inside(at, pixels), src + at);
        s.left = _mm512_fmadd_ps(x, taps[3 * dy], s.left);
        s.mid = _mm512_fmadd_ps(x, taps[3 * dy + 1], s.mid);
        s.right = _mm512_fmadd_ps(x, taps[3 * dy + 2], s.right);
    }
    return s;
}

/// Stride 1 on the plane as one flat row of pixels. A 3x3 window is linear, so the lane shifts that bring each
/// pixel's left and right neighbours can come after the sums over the window rows instead of before: per block of
/// 16 outputs, the column sums at the next block (3 loads, 9 FMAs) and then
///     out(q) = mid(q) + left(q) moved up a lane (lane 0 from left(q - 16)'s lane 15)
///                     + right(q) moved down a lane (lane 15 from right(q + 16)'s lane 0)
/// with 2 lane shifts per block instead of 6 (measured 5% faster at 28x28 and 14x14).
/// The left and right terms are masked off in columns 0 and width - 1, where the shifted lane is the neighbouring
/// row's pixel; loads are masked to the plane, which zeroes the rows above the first and below the last. No padded
/// copy, no per-row tails (a 7x7 plane is four vectors). The masks of a tile of blocks are computed once for all
/// channels.
SN_INLINE void depthwise_stride1(const sn_depthwise_args *a) {
    const ptrdiff_t width = a->width, pixels = a->height * width;
    // Per block: lanes with a left neighbour, with a right one, inside the plane; then, per window row, the lanes
    // of the next block's load that are inside the plane.
    __mmask16 masks[DEPTHWISE_TILE_BLOCKS][6];
    for (ptrdiff_t tile = 0; tile < pixels; tile += 16 * DEPTHWISE_TILE_BLOCKS) {
        const ptrdiff_t left = pixels - tile;
        const int blocks = left >= 16 * DEPTHWISE_TILE_BLOCKS ? DEPTHWISE_TILE_BLOCKS : (int)((left + 15) / 16);
        for (int b = 0; b < blocks; b++) {
            const plane_lanes lanes = lanes_of_block(tile + 16 * b, a->height, width);
            masks[b][0] = lanes.left;
            masks[b][1] = lanes.right;
            masks[b][2] = lanes.inside;
            for (int dy = 0; dy < 3; dy++) masks[b][3 + dy] = columns_inside(tile + 16 * b + 16 + (dy - 1) * width, pixels);
        }
        for (ptrdiff_t c = a->channel_begin; c < a->channel_end; c++) {
            const float *t = a->weights + 9 * c;
            __m512 taps[9];
            for (int k = 0; k < 9; k++) taps[k] = _mm512_set1_ps(t[k]);
            const __m512 bias = _mm512_set1_ps(a->bias[c]);
            const float *src = a->input + c * a->input_plane_stride;
            float *dst = a->output + a->destinations[c] * a->output_plane_stride;
            // The left sums of the block before the tile (only its last lane is used) and the sums at the tile.
            __m512 left_before = column_sums_at(src, tile - 16, width, pixels, taps, bias, NULL).left;
            column_sums here = column_sums_at(src, tile, width, pixels, taps, bias, NULL);
            for (int b = 0; b < blocks; b++) {
                const ptrdiff_t q = tile + 16 * b;
                const column_sums next = column_sums_at(src, q + 16, width, pixels, taps, bias, masks[b] + 3);
                const __m512 from_left = SN_SHIFT(here.left, left_before, 15);  // tap column 0 at pixel - 1
                const __m512 from_right = SN_SHIFT(next.right, here.right, 1);  // tap column 2 at pixel + 1
                __m512 v = _mm512_mask_add_ps(here.mid, masks[b][0], here.mid, from_left);
                v = _mm512_mask_add_ps(v, masks[b][1], v, from_right);
                _mm512_mask_storeu_ps(dst + q, masks[b][2], v);
                left_before = here.left;
                here = next;
            }
        }
    }
}

/// Output row y, outputs x .. x+15, of every channel in the range, for stride 2: per input row, two masked loads
/// give columns 2x .. 2x+31, whose even and odd lanes are the middle and right taps; the left taps are the right
/// ones moved up a lane, with column 2x-1 in lane 0. Rows outside the plane are skipped (their taps are padding,
/// i.e. zero): whether the window has its top and bottom rows are constants at each call, so the rows are
/// straight-line code. Channels innermost: the masks and row bounds of a block serve every channel (measured
/// faster here than one plane at a time).
SN_INLINE void depthwise_stride2_block(const sn_depthwise_args *a, ptrdiff_t y, ptrdiff_t x, const int top,
                                       const int bottom) {
    const ptrdiff_t width = a->width, out_w = (width - 1) / 2 + 1;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __mmask16 m_lo = columns_inside(2 * x, width), m_hi = columns_inside(2 * x + 16, width);
    const __mmask16 keep = columns_inside(x, out_w);
    for (ptrdiff_t c = a->channel_begin; c < a->channel_end; c++) {
        const float *t = a->weights + 9 * c;
        const float *middle_row = a->input + c * a->input_plane_stride + 2 * y * width + 2 * x;
        __m512 acc = _mm512_set1_ps(a->bias[c]);
#pragma clang loop unroll(full)
        for (int ky = 0; ky < 3; ky++) {
            if ((ky == 0 && !top) || (ky == 2 && !bottom)) continue;
            const float *r = middle_row + (ky - 1) * width;
            const __m512 lo = _mm512_maskz_loadu_ps(m_lo, r), hi = _mm512_maskz_loadu_ps(m_hi, r + 16);
            const __m512 middle = _mm512_permutex2var_ps(lo, even, hi);  // column 2(x+j)
            const __m512 right = _mm512_permutex2var_ps(lo, odd, hi);    // column 2(x+j) + 1
            const __m512 before = _mm512_set1_ps(x > 0 ? r[-1] : 0.0f);   // column 2x - 1
            const __m512 leftmost = _mm512_castsi512_ps(
                _mm512_alignr_epi32(_mm512_castps_si512(right), _mm512_castps_si512(before), 15));
            acc = _mm512_fmadd_ps(leftmost, _mm512_set1_ps(t[3 * ky]), acc);
            acc = _mm512_fmadd_ps(middle, _mm512_set1_ps(t[3 * ky + 1]), acc);
            acc = _mm512_fmadd_ps(right, _mm512_set1_ps(t[3 * ky + 2]), acc);
        }
        _mm512_mask_storeu_ps(a->output + a->destinations[c] * a->output_plane_stride + y * out_w + x, keep, acc);
    }
}

SN_INLINE void depthwise_stride2(const sn_depthwise_args *a) {
    const ptrdiff_t height = a->height, out_h = (height - 1) / 2 + 1, out_w = (a->width - 1) / 2 + 1;
    for (ptrdiff_t y = 0; y < out_h; y++) {
        const int top = y > 0, bottom = 2 * y + 1 < height;  // window rows inside the plane
        for (ptrdiff_t x = 0; x < out_w; x += 16) {
            if (top && bottom) depthwise_stride2_block(a, y, x, 1, 1);
            else if (bottom) depthwise_stride2_block(a, y, x, 0, 1);
            else if (top) depthwise_stride2_block(a, y, x, 1, 0);
            else depthwise_stride2_block(a, y, x, 0, 0);
        }
    }
}

/// Reads the input planes in place (masked loads stand in for the padding), so `scratch` is not used.
void sn_f32_dwconv3x3_ukernel_chw16__avx512f(const sn_depthwise_args *args) {
    SN_LOCAL_ARGS(sn_depthwise_args);
    if (a->stride == 1) {
        depthwise_stride1(a);
    } else {
        depthwise_stride2(a);
    }
}

// The stem and the pools, from their templates (after columns_inside, which their masks use).
#define SN_MASK __mmask16
#define SN_MASK_INSIDE(start, limit) columns_inside((start), (limit))
#define SN_VLOAD_MASKED_OR(pad, m, p) _mm512_mask_loadu_ps((pad), (m), (p))
#define SN_VEVEN(lo, hi) \
    _mm512_permutex2var_ps((lo), _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), (hi))
#define SN_VODD(lo, hi) \
    _mm512_permutex2var_ps((lo), _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), (hi))
#define SN_VSHIFT_IN(v, s) _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(v), _mm512_castps_si512(s), 15))
#define SN_VMUL(a, b) _mm512_mul_ps((a), (b))

// Blocks of 12 when they divide what is left (12, 24, 48 channels), else of 8 (16 = 8 + 8, not 12 + 4).
#define SN_CONV3X3S2_UKERNEL sn_f32_conv3x3s2_ukernel_2x16__avx512f
#define SN_CONV3X3S2_MR_ROWS 2
#define SN_CONV3X3S2_BLOCK(left) ((left) % 12 == 0 ? 12 : (left) >= 8 ? 8 : (left) >= 4 ? 4 : 1)
#include "templates/f32_conv3x3s2.h"

#define SN_POOL_UKERNEL sn_f32_pool3x3s2_ukernel_16__avx512f
#include "templates/f32_pool3x3s2.h"

#pragma clang attribute pop
#endif
