// AVX-512F micro-kernels: 16 floats per register, 32 registers. Compiled for any x86-64 (every function here
// carries the target attribute of the pragma below) and only called through a configuration whose required
// features the CPU has (configs.c).
#include "kernels_internal.h"

#if SN_KERNELS_X86
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)

#define SN_INLINE static inline __attribute__((always_inline))

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

#define SN_POINTWISE_UKERNEL sn_f32_pointwise_ukernel_8x48__avx512f
#define SN_POINTWISE_MR 8
#define SN_POINTWISE_NV 3
#define SN_POINTWISE_TAIL_MAX 4
#include "templates/f32_pointwise.h"

#define SN_DENSE_UKERNEL sn_f32_dense_ukernel_4x16__avx512f
#include "templates/f32_dense.h"

// MARK: - Not from a template yet (their AVX2 and portable counterparts use other algorithms): depthwise in
// place, stem, pooling.

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

/// Output channels o ..< o + n (n a constant at each call) for 16 pixels from column x of `rows` (1 or 2, also a
/// constant) consecutive output rows from y, window rows `first ... last` (all three for 2 rows). Each of the 9 * C
/// input vectors (even columns of an input row, from two masked loads: columns outside the plane read as zero,
/// which is the padding) feeds n FMAs, and each broadcast weight feeds `rows` of them: with 2 x 12 accumulators in
/// registers the loop issues two thirds of a load per FMA instead of more than one.
SN_INLINE void conv3x3s2_block(const sn_conv3x3s2_args *a, const float *weights, const float *bias, ptrdiff_t o, const int n, ptrdiff_t y, const int rows,
                               ptrdiff_t x, int first, int last, const __mmask16 *masks, ptrdiff_t out_w) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const ptrdiff_t width = a->width;
    const float *w = weights + o;  // advanced by `outputs` per tap: weights are [C][3][3][outputs]
    __m512 acc[2][12];
    // Every loop over the block fully unrolled, so that the accumulators are registers, not a stack array.
#pragma clang loop unroll(full)
    for (int i = 0; i < rows; i++) {
#pragma clang loop unroll(full)
        for (int r = 0; r < n; r++) acc[i][r] = _mm512_set1_ps(bias[o + r]);
    }
    for (ptrdiff_t c = 0; c < a->input_channels; c++) {
        // Input row 2y - 1 + ky, column 2x + kx - 1 of channel c for window tap (ky, kx).
        const float *base = a->input + c * a->input_plane_stride + (2 * y - 1) * width + 2 * x - 1;
#pragma clang loop unroll(full)
        for (int t = 0; t < 9; t++) {
            const int ky = t / 3, kx = t % 3;
            if (ky >= first && ky <= last) {
                __m512 v[2];
#pragma clang loop unroll(full)
                for (int i = 0; i < rows; i++) {
                    const float *p = base + (2 * i + ky) * width + kx;
                    v[i] = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(masks[2 * kx], p), even,
                                                  _mm512_maskz_loadu_ps(masks[2 * kx + 1], p + 16));
                }
#pragma clang loop unroll(full)
                for (int r = 0; r < n; r++) {
                    const __m512 weight = _mm512_set1_ps(w[r]);
#pragma clang loop unroll(full)
                    for (int i = 0; i < rows; i++) acc[i][r] = _mm512_fmadd_ps(v[i], weight, acc[i][r]);
                }
            }
            w += a->outputs;
        }
    }
    const __mmask16 keep = columns_inside(x, out_w);
#pragma clang loop unroll(full)
    for (int i = 0; i < rows; i++) {
#pragma clang loop unroll(full)
        for (int r = 0; r < n; r++) {
            float *dst = a->output + (o + r) * a->output_plane_stride + (y + i - a->output_row_base) * out_w + x;
            _mm512_mask_storeu_ps(dst, keep, _mm512_max_ps(acc[i][r], _mm512_setzero_ps()));
        }
    }
}

/// `conv3x3s2_block` for `rows` (1 or 2) output rows from y, over all output channels in blocks of 12, 8, 4 and 1.
SN_INLINE void conv3x3s2_rows(const sn_conv3x3s2_args *a, const float *weights, const float *bias, ptrdiff_t y, const int rows, int first, int last,
                              ptrdiff_t out_w) {
    for (ptrdiff_t x = 0; x < out_w; x += 16) {
        // The input rows the next rows of outputs will add (2y+2r+1 ... 2y+2r+4 for r = rows), fetched while these
        // compute: the input of a batch is read once, from DRAM, and a band's rows of three channel planes are
        // more streams than the hardware prefetcher follows.
        for (ptrdiff_t c = 0; c < a->input_channels; c++) {
            for (int k = 1; k <= 2 * rows; k++) {
                const ptrdiff_t r = 2 * y + 2 * rows - 1 + k;
                if (r < a->height) {
                    const char *line = (const char *)(a->input + c * a->input_plane_stride + r * a->width + 2 * x);
                    _mm_prefetch(line, _MM_HINT_T0);
                    _mm_prefetch(line + 64, _MM_HINT_T0);
                }
            }
        }
        // Per kx, the lanes of the two loads (columns 2x+kx-1 ... and 16 further) that lie inside the plane.
        __mmask16 masks[6];
        for (int kx = 0; kx < 3; kx++) {
            masks[2 * kx] = columns_inside(2 * x + kx - 1, a->width);
            masks[2 * kx + 1] = columns_inside(2 * x + kx + 15, a->width);
        }
        for (ptrdiff_t o = 0; o < a->outputs;) {
            // Blocks of 12 when they divide what is left (12, 24, 48 channels), else of 8 (16 = 8 + 8, not 12 + 4).
            const ptrdiff_t left = a->outputs - o;
            const int n = left % 12 == 0 ? 12 : left >= 8 ? 8 : left >= 4 ? 4 : 1;
            switch (n) {
            case 12: conv3x3s2_block(a, weights, bias, o, 12, y, rows, x, first, last, masks, out_w); break;
            case 8: conv3x3s2_block(a, weights, bias, o, 8, y, rows, x, first, last, masks, out_w); break;
            case 4: conv3x3s2_block(a, weights, bias, o, 4, y, rows, x, first, last, masks, out_w); break;
            default: conv3x3s2_block(a, weights, bias, o, 1, y, rows, x, first, last, masks, out_w); break;
            }
            o += n;
        }
    }
}


void sn_f32_conv3x3s2_ukernel_2x16__avx512f(const sn_conv3x3s2_args *args, const float *weights, const float *bias,
                                            ptrdiff_t y, int rows, int first_row, int last_row) {
    SN_LOCAL_ARGS(sn_conv3x3s2_args);
    const ptrdiff_t out_w = (a->width - 1) / 2 + 1;
    // Two rows only where both windows lie wholly inside the plane (the driver's promise).
    if (rows == 2) {
        conv3x3s2_rows(a, weights, bias, y, 2, 0, 2, out_w);
    } else {
        conv3x3s2_rows(a, weights, bias, y, 1, first_row, last_row, out_w);
    }
}

/// Pooled outputs o .. o+15 of one output row for every channel in the range: per input row, two masked loads
/// give columns 2o .. 2o+31 (the padding value outside the plane), whose even and odd lanes are the window's middle
/// and right columns; its left column is the right one moved up a lane, with column 2o-1 in lane 0. Channels
/// innermost, so the masks and row bounds serve them all. Whether the window has a row above (`top`) and below
/// (`bottom`) the middle one are constants at each call, so the rows are straight-line code: a loop over 2 or 3 rows
/// was compiled into branches that made this 3-4 times slower.
SN_INLINE void pool_columns(const sn_pool3x3s2_args *a, ptrdiff_t y, ptrdiff_t o, const int is_max, const int top,
                            const int bottom) {
    const ptrdiff_t width = a->width, out_w = (width - 1) / 2 + 1;
    const float pad = is_max ? -__builtin_inff() : 0.0f;
    const __m512 padding = _mm512_set1_ps(pad);
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __mmask16 m_lo = columns_inside(2 * o, width), m_hi = columns_inside(2 * o + 16, width);
    const __mmask16 keep = columns_inside(o, out_w);
    const ptrdiff_t middle_row = (2 * y - a->input_row_base) * width;
    float *out = a->output + y * out_w + o;
    for (ptrdiff_t c = a->channel_begin; c < a->channel_end; c++) {
        const float *rows[3];
        rows[1] = a->input + c * a->input_plane_stride + 2 * o + middle_row;
        rows[0] = rows[1] - width;
        rows[2] = rows[1] + width;
        __m512 lo = padding, hi = padding, before = padding;
#pragma clang loop unroll(full)
        for (int r = 0; r < 3; r++) {
            if ((r == 0 && !top) || (r == 2 && !bottom)) continue;
            const float *p = rows[r];
            const __m512 l = _mm512_mask_loadu_ps(padding, m_lo, p), h = _mm512_mask_loadu_ps(padding, m_hi, p + 16);
            const __m512 b = _mm512_set1_ps(o > 0 ? p[-1] : pad);
            if (is_max) {
                lo = _mm512_max_ps(lo, l); hi = _mm512_max_ps(hi, h); before = _mm512_max_ps(before, b);
            } else {
                lo = _mm512_add_ps(lo, l); hi = _mm512_add_ps(hi, h); before = _mm512_add_ps(before, b);
            }
        }
        const __m512 middle = _mm512_permutex2var_ps(lo, even, hi);  // column 2(o+j)
        const __m512 right = _mm512_permutex2var_ps(lo, odd, hi);    // column 2(o+j) + 1
        const __m512 left = _mm512_castsi512_ps(                      // column 2(o+j) - 1
            _mm512_alignr_epi32(_mm512_castps_si512(right), _mm512_castps_si512(before), 15));
        __m512 v;
        if (is_max) {
            v = _mm512_max_ps(_mm512_max_ps(left, middle), right);
        } else {
            v = _mm512_mul_ps(_mm512_add_ps(_mm512_add_ps(left, middle), right), _mm512_set1_ps(1.0f / 9.0f));
        }
        _mm512_mask_storeu_ps(out + c * a->output_plane_stride, keep, v);
    }
}


void sn_f32_pool3x3s2_ukernel_16__avx512f(const sn_pool3x3s2_args *args, ptrdiff_t y, ptrdiff_t o, int rows) {
    SN_LOCAL_ARGS(sn_pool3x3s2_args);
    SN_POOL_COLUMNS(a, y, o, rows);
}

#pragma clang attribute pop
#endif
