// AVX2 + FMA micro-kernels: 8 floats per register, 16 registers. Compiled for any x86-64 (every function here
// carries the target attribute of the pragma below) and only called through a configuration whose required
// features the CPU has (configs.c).
#include "kernels_internal.h"

#if SN_KERNELS_X86
#include <immintrin.h>
#include <stdint.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

#define SN_INLINE static inline __attribute__((always_inline))

/// `lanes_mask(n)` for n in 0...8 is `mask_window + 8 - n`: n all-ones lanes, then zeros (for maskload/maskstore).
static const int32_t mask_window[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

SN_INLINE __m256i lanes_mask(ptrdiff_t n) {
    return _mm256_loadu_si256((const __m256i *)(const void *)(mask_window + 8 - n));
}

/// `p[0], p[2], ..., p[14]`: the stride-2 window's columns for 8 outputs. The in-lane shuffle gives
/// p0 p2 p8 p10 | p4 p6 p12 p14; the 64-bit permute puts the pairs back in order.
SN_INLINE __m256 load_even(const float *p) {
    const __m256 evens = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(evens), _MM_SHUFFLE(3, 1, 2, 0)));
}

SN_INLINE float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// The vector layer the templates are written against (templates/vector_layer.h).
#define SN_V __m256
#define SN_LANES 8
#define SN_VLOAD(p) _mm256_loadu_ps(p)
#define SN_VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define SN_VSET1(x) _mm256_set1_ps(x)
#define SN_VZERO() _mm256_setzero_ps()
#define SN_VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define SN_VADD(a, b) _mm256_add_ps((a), (b))
#define SN_VMAX(a, b) _mm256_max_ps((a), (b))
/// Lanes 0 ..< n of p (n <= 8), the others zero; nothing past them is read (maskload does not fault there).
#define SN_VLOAD_LANES(p, n) _mm256_maskload_ps((p), lanes_mask(n))
#define SN_VSTORE_LANES(p, v, n) _mm256_maskstore_ps((p), lanes_mask(n), (v))
#define SN_VREDUCE_ADD(v) horizontal_sum(v)
#define SN_VLOAD_EVEN(p) load_even(p)
#define SN_PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)

// 2R accumulators, 2 input vectors and a broadcast weight fit the 16 registers.
#define SN_POINTWISE_UKERNEL sn_f32_pointwise_ukernel_6x16__avx2_fma
#define SN_POINTWISE_MR 6
#define SN_POINTWISE_NV 2
#define SN_POINTWISE_TAIL_MAX 0
#include "templates/f32_pointwise.h"

#define SN_DENSE_UKERNEL sn_f32_dense_ukernel_4x8__avx2_fma
#include "templates/f32_dense.h"

#define SN_DWCONV_PLANE_UKERNEL sn_f32_dwconv3x3_ukernel_plane8__avx2_fma
#include "templates/f32_dwconv3x3_plane.h"

// MARK: - Not from a template yet: stem, pooling

/// Lanes `0 <= start + l < limit` of an 8-float load, as a maskload/maskstore mask.
SN_INLINE __m256i lanes_inside(ptrdiff_t start, ptrdiff_t limit) {
    const __m256i position = _mm256_add_epi32(_mm256_set1_epi32((int)start), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_and_si256(_mm256_cmpgt_epi32(position, _mm256_set1_epi32(-1)),
                            _mm256_cmpgt_epi32(_mm256_set1_epi32((int)limit), position));
}

/// Output channels o ..< o + n (a constant at each call) for 8 pixels of output row y from column x, window rows
/// `first ... last`: even columns of each input row from two masked loads (columns outside the plane read as zero,
/// the padding) and a shuffle, each feeding n FMAs.
SN_INLINE void conv3x3s2_block(const sn_conv3x3s2_args *a, const float *weights, const float *bias, ptrdiff_t o, const int n, ptrdiff_t y, ptrdiff_t x,
                               int first, int last, const __m256i *masks, ptrdiff_t out_w) {
    const ptrdiff_t width = a->width;
    const float *w = weights + o;  // advanced by `outputs` per tap: weights are [C][3][3][outputs]
    __m256 acc[12];
    // Every loop over the block fully unrolled, so that the accumulators are registers, not a stack array.
#pragma clang loop unroll(full)
    for (int r = 0; r < n; r++) acc[r] = _mm256_set1_ps(bias[o + r]);
    for (ptrdiff_t c = 0; c < a->input_channels; c++) {
        // Input row 2y - 1 + ky, column 2x + kx - 1 of channel c for window tap (ky, kx).
        const float *base = a->input + c * a->input_plane_stride + (2 * y - 1) * width + 2 * x - 1;
#pragma clang loop unroll(full)
        for (int t = 0; t < 9; t++) {
            const int ky = t / 3, kx = t % 3;
            if (ky >= first && ky <= last) {
                const float *p = base + ky * width + kx;
                const __m256 pairs = _mm256_shuffle_ps(_mm256_maskload_ps(p, masks[2 * kx]),
                                                       _mm256_maskload_ps(p + 8, masks[2 * kx + 1]), _MM_SHUFFLE(2, 0, 2, 0));
                const __m256 v = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(pairs), _MM_SHUFFLE(3, 1, 2, 0)));
#pragma clang loop unroll(full)
                for (int r = 0; r < n; r++) acc[r] = _mm256_fmadd_ps(v, _mm256_broadcast_ss(w + r), acc[r]);
            }
            w += a->outputs;
        }
    }
    const ptrdiff_t left = out_w - x;
#pragma clang loop unroll(full)
    for (int r = 0; r < n; r++) {
        float *dst = a->output + (o + r) * a->output_plane_stride + (y - a->output_row_base) * out_w + x;
        const __m256 v = _mm256_max_ps(acc[r], _mm256_setzero_ps());
        if (left >= 8) {
            _mm256_storeu_ps(dst, v);
        } else {
            _mm256_maskstore_ps(dst, lanes_mask(left), v);
        }
    }
}

void sn_f32_conv3x3s2_ukernel_1x8__avx2_fma(const sn_conv3x3s2_args *args, const float *weights, const float *bias,
                                            ptrdiff_t y, int rows, int first, int last) {
    SN_LOCAL_ARGS(sn_conv3x3s2_args);
    (void)rows;  // one row per call (mr_rows = 1)
    const ptrdiff_t out_w = (a->width - 1) / 2 + 1;
    for (ptrdiff_t x = 0; x < out_w; x += 8) {
        // The two input rows the next output row adds, fetched while this one computes (see the AVX-512 kernel).
        for (ptrdiff_t c = 0; c < a->input_channels; c++) {
            for (ptrdiff_t r = 2 * y + 2; r <= 2 * y + 3 && r < a->height; r++) {
                const char *line = (const char *)(a->input + c * a->input_plane_stride + r * a->width + 2 * x);
                _mm_prefetch(line, _MM_HINT_T0);
                _mm_prefetch(line + 60, _MM_HINT_T0);
            }
        }
        // Per kx, the lanes of the two loads (columns 2x+kx-1 ... and 8 further) that lie inside the plane.
        __m256i masks[6];
        for (int kx = 0; kx < 3; kx++) {
            masks[2 * kx] = lanes_inside(2 * x + kx - 1, a->width);
            masks[2 * kx + 1] = lanes_inside(2 * x + kx + 7, a->width);
        }
        // Output channels in blocks of 12, 8, 4 and 1, each block size a constant in its own code.
        for (ptrdiff_t o = 0; o < a->outputs;) {
            const ptrdiff_t left = a->outputs - o;
            const int n = left >= 12 ? 12 : left >= 8 ? 8 : left >= 4 ? 4 : 1;
            switch (n) {
            case 12: conv3x3s2_block(a, weights, bias, o, 12, y, x, first, last, masks, out_w); break;
            case 8: conv3x3s2_block(a, weights, bias, o, 8, y, x, first, last, masks, out_w); break;
            case 4: conv3x3s2_block(a, weights, bias, o, 4, y, x, first, last, masks, out_w); break;
            default: conv3x3s2_block(a, weights, bias, o, 1, y, x, first, last, masks, out_w); break;
            }
            o += n;
        }
    }
}

/// Pooled outputs o .. o+7 of output row y for every channel in the range (the AVX-512 kernel's method with 8
/// lanes): per input row, two masked loads give columns 2o .. 2o+15 (the padding value outside the plane), whose
/// even and odd lanes are the window's middle and right columns; its left column is the right one moved up a
/// lane, with column 2o-1 in lane 0. Whether the window has a row above (`top`) and below (`bottom`) the middle
/// one are constants at each call, so the rows are straight-line code.
SN_INLINE void pool_columns(const sn_pool3x3s2_args *a, ptrdiff_t y, ptrdiff_t o, const int is_max, const int top,
                            const int bottom) {
    const ptrdiff_t width = a->width, out_w = (width - 1) / 2 + 1;
    const float pad = is_max ? -__builtin_inff() : 0.0f;
    const __m256 padding = _mm256_set1_ps(pad);
    const __m256i m_lo = lanes_inside(2 * o, width), m_hi = lanes_inside(2 * o + 8, width);
    const __m256 use_lo = _mm256_castsi256_ps(m_lo), use_hi = _mm256_castsi256_ps(m_hi);
    const __m256i rotate = _mm256_setr_epi32(7, 0, 1, 2, 3, 4, 5, 6);
    const ptrdiff_t middle_row = (2 * y - a->input_row_base) * width;
    for (ptrdiff_t c = a->channel_begin; c < a->channel_end; c++) {
        const float *src = a->input + c * a->input_plane_stride + 2 * o + middle_row;
        __m256 lo = padding, hi = padding, before = padding;
#pragma clang loop unroll(full)
        for (int r = 0; r < 3; r++) {
            if ((r == 0 && !top) || (r == 2 && !bottom)) continue;
            const float *p = src + (r - 1) * width;
            const __m256 l = _mm256_blendv_ps(padding, _mm256_maskload_ps(p, m_lo), use_lo);
            const __m256 h = _mm256_blendv_ps(padding, _mm256_maskload_ps(p + 8, m_hi), use_hi);
            const __m256 b = _mm256_set1_ps(o > 0 ? p[-1] : pad);
            if (is_max) {
                lo = _mm256_max_ps(lo, l); hi = _mm256_max_ps(hi, h); before = _mm256_max_ps(before, b);
            } else {
                lo = _mm256_add_ps(lo, l); hi = _mm256_add_ps(hi, h); before = _mm256_add_ps(before, b);
            }
        }
        const __m256 middle = _mm256_castpd_ps(_mm256_permute4x64_pd(  // column 2(o+j)
            _mm256_castps_pd(_mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)));
        const __m256 right = _mm256_castpd_ps(_mm256_permute4x64_pd(   // column 2(o+j) + 1
            _mm256_castps_pd(_mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1))), _MM_SHUFFLE(3, 1, 2, 0)));
        const __m256 left = _mm256_blend_ps(_mm256_permutevar8x32_ps(right, rotate), before, 1);  // column 2(o+j) - 1
        __m256 v;
        if (is_max) {
            v = _mm256_max_ps(_mm256_max_ps(left, middle), right);
        } else {
            v = _mm256_mul_ps(_mm256_add_ps(_mm256_add_ps(left, middle), right), _mm256_set1_ps(1.0f / 9.0f));
        }
        float *out = a->output + c * a->output_plane_stride + y * out_w + o;
        if (o + 8 <= out_w) {
            _mm256_storeu_ps(out, v);
        } else {
            _mm256_maskstore_ps(out, lanes_mask(out_w - o), v);
        }
    }
}


void sn_f32_pool3x3s2_ukernel_8__avx2_fma(const sn_pool3x3s2_args *args, ptrdiff_t y, ptrdiff_t o, int rows) {
    SN_LOCAL_ARGS(sn_pool3x3s2_args);
    SN_POOL_COLUMNS(a, y, o, rows);
}

#pragma clang attribute pop
#endif
