// AVX2 + FMA variant: 8 floats per register, 16 registers. Compiled for any x86-64 (the functions carry their own
// target attribute) and only called after dispatch.c has checked the CPU.
#include "kernels_internal.h"

#if SN_KERNELS_X86
#include <immintrin.h>
#include <stdint.h>

#define SN_TARGET __attribute__((target("avx2,fma")))
#define SN_INLINE static inline __attribute__((always_inline, target("avx2,fma")))

/// `lanes_mask(n)` for n in 0...8 is `mask_window + 8 - n`: n all-ones lanes, then zeros (for maskload/maskstore).
static const int32_t mask_window[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

SN_INLINE __m256i lanes_mask(ptrdiff_t n) {
    return _mm256_loadu_si256((const __m256i *)(const void *)(mask_window + 8 - n));
}

/// `bias + sum` through the epilogue, stored to output channel `o` at pixel `p`.
SN_INLINE void finish(const sn_pointwise_args *a, __m256 sum, __m256 bias, ptrdiff_t o, ptrdiff_t p) {
    __m256 v = _mm256_add_ps(sum, bias);
    if (a->epilogue != SN_EPILOGUE_LINEAR) {
        if (a->epilogue == SN_EPILOGUE_ADD_RESIDUAL_RELU) {
            v = _mm256_add_ps(v, _mm256_loadu_ps(a->residual + o * a->residual_plane_stride + p));
        }
        v = _mm256_max_ps(v, _mm256_setzero_ps());
    }
    _mm256_storeu_ps(a->output + o * a->output_plane_stride + p, v);
}

/// Output channels o ..< o + R of one group (rows of one weight panel, `w`) at pixels p ..< p + 16 (R <= 6, a
/// constant at every call): 2R accumulators, 2 input vectors and a broadcast weight fit the 16 registers; each
/// input vector loaded feeds R FMAs and each weight 2.
SN_INLINE void block(const sn_pointwise_args *a, const float *x, ptrdiff_t o, sn_panel_rows w, ptrdiff_t p, const int R) {
    const ptrdiff_t k = a->inputs_per_group, xs = a->input_plane_stride, ws = w.width;
    const float *wp = w.weights;
    __m256 acc[6][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    const float *xp = x + p;
    // The next panel's weights (the ws * k floats after these) are fetched while this block computes: weights
    // mostly live in L3, and a block starting on a cold panel would stall on each of its cache lines.
    const char *next = (const char *)(wp + ws * k);
    for (ptrdiff_t i = 0; i < k; i++, xp += xs, wp += ws) {
        _mm_prefetch(next + (size_t)(i * ws) * sizeof(float), _MM_HINT_T0);
        const __m256 x0 = _mm256_loadu_ps(xp), x1 = _mm256_loadu_ps(xp + 8);
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            const __m256 c = _mm256_broadcast_ss(wp + r);
            acc[r][0] = _mm256_fmadd_ps(x0, c, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(x1, c, acc[r][1]);
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) {
        const __m256 bias = _mm256_set1_ps(a->bias[o + r]);
        finish(a, acc[r][0], bias, o + r, p);
        finish(a, acc[r][1], bias, o + r, p + 8);
    }
}

/// Pixels are computed 16 at a time, the last block's padding pixels too (the planes have room for them).
SN_TARGET void sn_pointwise_avx2(const sn_pointwise_args *args) {
    SN_LOCAL_ARGS(sn_pointwise_args);
    ptrdiff_t first, last;
    sn_group_span(a, &first, &last);
    const ptrdiff_t tile = sn_pixel_tile(a, 16), pixels = (a->pixels + 15) / 16 * 16;
    for (ptrdiff_t g = first; g < last; g++) {
        const sn_group_slice group = sn_group_slice_of(a, g);
        const float *x = group.input;
        for (ptrdiff_t p0 = 0; p0 < pixels; p0 += tile) {
            const ptrdiff_t pend = p0 + tile < pixels ? p0 + tile : pixels;
            for (ptrdiff_t o = group.begin; o < group.end;) {
                const sn_panel_rows panel = sn_panel_rows_at(a, &group, o);
                // The panel's rows in register blocks of at most 6 (panels packed for AVX-512 are up to 8 high: 4 + 4).
                const int step = (panel.rows + (panel.rows + 5) / 6 - 1) / ((panel.rows + 5) / 6);
                for (int r0 = 0; r0 < panel.rows; r0 += step) {
                    const sn_panel_rows w = {panel.weights + r0, panel.width, panel.rows - r0 < step ? panel.rows - r0 : step};
                    for (ptrdiff_t p = p0; p < pend; p += 16) {
                        switch (w.rows) {
                        case 6: block(a, x, o + r0, w, p, 6); break;
                        case 5: block(a, x, o + r0, w, p, 5); break;
                        case 4: block(a, x, o + r0, w, p, 4); break;
                        case 3: block(a, x, o + r0, w, p, 3); break;
                        case 2: block(a, x, o + r0, w, p, 2); break;
                        default: block(a, x, o + r0, w, p, 1); break;
                        }
                    }
                }
                o += panel.rows;
            }
        }
    }
}

/// `p[0], p[2], ..., p[14]`: the stride-2 window's columns for 8 outputs. The in-lane shuffle gives
/// p0 p2 p8 p10 | p4 p6 p12 p14; the 64-bit permute puts the pairs back in order.
SN_INLINE __m256 load_even(const float *p) {
    const __m256 evens = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(evens), _MM_SHUFFLE(3, 1, 2, 0)));
}

/// The whole plane for one stride; `stride` is a constant in each call below, so each gets its own loop.
SN_INLINE void depthwise_plane(const sn_depthwise_plane_args *a, const int stride) {
    __m256 t[9];
    for (int i = 0; i < 9; i++) t[i] = _mm256_set1_ps(a->taps[i]);
    const __m256 bias = _mm256_set1_ps(a->bias);
    const ptrdiff_t width = a->output_width, row = a->padded_row;
    for (ptrdiff_t y = 0; y < a->output_height; y++) {
        const float *r0 = a->padded + stride * y * row;
        float *dst = a->output + y * width;
        for (ptrdiff_t x = 0; x < width; x += 8) {
            __m256 acc = bias;
            for (int ky = 0; ky < 3; ky++) {
                for (int kx = 0; kx < 3; kx++) {
                    const float *r = r0 + ky * row + stride * x + kx;
                    acc = _mm256_fmadd_ps(stride == 1 ? _mm256_loadu_ps(r) : load_even(r), t[3 * ky + kx], acc);
                }
            }
            // The last block of a row may be partial: a masked store leaves the next row's pixels alone.
            if (x + 8 <= width) {
                _mm256_storeu_ps(dst + x, acc);
            } else {
                _mm256_maskstore_ps(dst + x, lanes_mask(width - x), acc);
            }
        }
    }
}

SN_TARGET void sn_depthwise_plane_avx2(const sn_depthwise_plane_args *args) {
    SN_LOCAL_ARGS(sn_depthwise_plane_args);
    if (a->stride == 1) {
        depthwise_plane(a, 1);
    } else {
        depthwise_plane(a, 2);
    }
}

SN_INLINE float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Outputs o ..< o + R (a constant): R weight rows streamed side by side and the rows after them prefetched, so
/// that several cache lines are in flight (the weights come from L3 or DRAM once per image).
SN_INLINE void dense_rows(const sn_dense_args *a, ptrdiff_t o, const int R) {
    const ptrdiff_t n = a->inputs;
    const __m256i tail = lanes_mask(n % 8);
    const float *w = a->weights + o * n;
    const char *next = (const char *)(w + R * n);
    __m256 acc[4];
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(a->input + i);
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            _mm_prefetch(next + (size_t)(r * n + i) * sizeof(float), _MM_HINT_T0);
            acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(w + r * n + i), x, acc[r]);
        }
    }
    // Masked loads read nothing past the end of the row or of the input.
    const __m256 x = _mm256_maskload_ps(a->input + i, tail);
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) {
        acc[r] = _mm256_fmadd_ps(_mm256_maskload_ps(w + r * n + i, tail), x, acc[r]);
        a->output[o + r] = horizontal_sum(acc[r]) + (a->bias ? a->bias[o + r] : 0.0f);
    }
}

SN_TARGET void sn_dense_avx2(const sn_dense_args *args) {
    SN_LOCAL_ARGS(sn_dense_args);
    ptrdiff_t o = a->output_begin;
    for (; o + 4 <= a->output_end; o += 4) dense_rows(a, o, 4);
    for (; o < a->output_end; o++) dense_rows(a, o, 1);
}

/// Lanes `0 <= start + l < limit` of an 8-float load, as a maskload/maskstore mask.
SN_INLINE __m256i lanes_inside(ptrdiff_t start, ptrdiff_t limit) {
    const __m256i position = _mm256_add_epi32(_mm256_set1_epi32((int)start), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_and_si256(_mm256_cmpgt_epi32(position, _mm256_set1_epi32(-1)),
                            _mm256_cmpgt_epi32(_mm256_set1_epi32((int)limit), position));
}

/// Output channels o ..< o + n (a constant at each call) for 8 pixels of output row y from column x, window rows
/// `first ... last`: even columns of each input row from two masked loads (columns outside the plane read as zero,
/// the padding) and a shuffle, each feeding n FMAs.
SN_INLINE void conv3x3s2_block(const sn_conv3x3s2_args *a, ptrdiff_t o, const int n, ptrdiff_t y, ptrdiff_t x,
                               int first, int last, const __m256i *masks, ptrdiff_t out_w) {
    const ptrdiff_t width = a->width;
    const float *w = a->weights + o;  // advanced by `outputs` per tap: weights are [C][3][3][outputs]
    __m256 acc[12];
    // Every loop over the block fully unrolled, so that the accumulators are registers, not a stack array.
#pragma clang loop unroll(full)
    for (int r = 0; r < n; r++) acc[r] = _mm256_set1_ps(a->bias[o + r]);
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

SN_TARGET void sn_conv3x3s2_avx2(const sn_conv3x3s2_args *args) {
    SN_LOCAL_ARGS(sn_conv3x3s2_args);
    static const int sizes[] = {12, 8, 4, 1};
    const ptrdiff_t out_w = (a->width - 1) / 2 + 1;
    for (ptrdiff_t y = a->row_begin; y < a->row_end; y++) {
        int first, last;
        sn_window_rows(y, a->height, &first, &last);
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
            for (ptrdiff_t o = 0; o < a->outputs;) {
                const int n = sn_channel_block(a->outputs - o, sizes);
                switch (n) {
                case 12: conv3x3s2_block(a, o, 12, y, x, first, last, masks, out_w); break;
                case 8: conv3x3s2_block(a, o, 8, y, x, first, last, masks, out_w); break;
                case 4: conv3x3s2_block(a, o, 4, y, x, first, last, masks, out_w); break;
                default: conv3x3s2_block(a, o, 1, y, x, first, last, masks, out_w); break;
                }
                o += n;
            }
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

SN_TARGET void sn_pool3x3s2_avx2(const sn_pool3x3s2_args *args) {
    SN_LOCAL_ARGS(sn_pool3x3s2_args);
    SN_POOL_ALL_ROWS(8);
}
#endif
