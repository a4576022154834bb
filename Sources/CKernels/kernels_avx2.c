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

/// Output channels o .. o+3 of one group, 16 pixels at a time: 8 accumulators, 2 input vectors and a broadcast
/// weight fit the 16 registers, and each loaded vector feeds four FMAs.
SN_INLINE void rows4(const sn_pointwise_args *a, const float *x, ptrdiff_t o) {
    const ptrdiff_t k = a->inputs_per_group, xs = a->input_plane_stride;
    const float *w = a->weights + o * k;
    for (ptrdiff_t p = 0; p < a->pixels; p += 16) {
        __m256 acc[4][2];
        for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
        const float *xp = x + p;
        for (ptrdiff_t i = 0; i < k; i++, xp += xs) {
            const __m256 x0 = _mm256_loadu_ps(xp), x1 = _mm256_loadu_ps(xp + 8);
            for (int r = 0; r < 4; r++) {
                const __m256 c = _mm256_broadcast_ss(w + r * k + i);
                acc[r][0] = _mm256_fmadd_ps(x0, c, acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(x1, c, acc[r][1]);
            }
        }
        for (int r = 0; r < 4; r++) {
            const __m256 bias = _mm256_set1_ps(a->bias[o + r]);
            finish(a, acc[r][0], bias, o + r, p);
            finish(a, acc[r][1], bias, o + r, p + 8);
        }
    }
}

/// One output channel: the remainder when a group's slice of outputs is not a multiple of 4.
SN_INLINE void row1(const sn_pointwise_args *a, const float *x, ptrdiff_t o) {
    const ptrdiff_t k = a->inputs_per_group, xs = a->input_plane_stride;
    const float *w = a->weights + o * k;
    const __m256 bias = _mm256_set1_ps(a->bias[o]);
    for (ptrdiff_t p = 0; p < a->pixels; p += 16) {
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        const float *xp = x + p;
        for (ptrdiff_t i = 0; i < k; i++, xp += xs) {
            const __m256 c = _mm256_broadcast_ss(w + i);
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(xp), c, acc0);
            acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + 8), c, acc1);
        }
        finish(a, acc0, bias, o, p);
        finish(a, acc1, bias, o, p + 8);
    }
}

SN_TARGET void sn_pointwise_avx2(const sn_pointwise_args *a) {
    ptrdiff_t first, last;
    sn_group_span(a, &first, &last);
    for (ptrdiff_t g = first; g < last; g++) {
        const float *x = a->input + g * a->inputs_per_group * a->input_plane_stride;
        ptrdiff_t o = g * a->outputs_per_group > a->output_begin ? g * a->outputs_per_group : a->output_begin;
        const ptrdiff_t end = (g + 1) * a->outputs_per_group < a->output_end ? (g + 1) * a->outputs_per_group : a->output_end;
        for (; o + 4 <= end; o += 4) rows4(a, x, o);
        for (; o < end; o++) row1(a, x, o);
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

SN_TARGET void sn_depthwise_plane_avx2(const sn_depthwise_plane_args *a) {
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

SN_TARGET void sn_dense_avx2(const sn_dense_args *a) {
    const ptrdiff_t n = a->inputs;
    const __m256i tail = lanes_mask(n % 8);
    for (ptrdiff_t o = a->output_begin; o < a->output_end; o++) {
        const float *w = a->weights + o * n;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        ptrdiff_t i = 0;
        for (; i + 16 <= n; i += 16) {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(a->input + i), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(a->input + i + 8), acc1);
        }
        if (i + 8 <= n) {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(a->input + i), acc0);
            i += 8;
        }
        // Masked loads read nothing past the end of the row or of the input.
        acc1 = _mm256_fmadd_ps(_mm256_maskload_ps(w + i, tail), _mm256_maskload_ps(a->input + i, tail), acc1);
        a->output[o] = horizontal_sum(_mm256_add_ps(acc0, acc1)) + (a->bias ? a->bias[o] : 0.0f);
    }
}
/// `p[0], p[2], ..., p[14]`: the stride-2 window's columns for 8 outputs.
SN_INLINE __m256 load_even8(const float *p) {
    const __m256 pairs = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(pairs), _MM_SHUFFLE(3, 1, 2, 0)));
}

/// Output channels o ..< o + n (a constant at each call) for 8 pixels of output row y from column x.
SN_INLINE void conv3x3s2_block(const sn_conv3x3s2_args *a, ptrdiff_t o, const int n, ptrdiff_t y, ptrdiff_t x,
                               ptrdiff_t row, ptrdiff_t plane, ptrdiff_t out_w) {
    const float *w = a->weights + o;  // advanced by `outputs` per tap: weights are [C][3][3][outputs]
    __m256 acc[12];
    // Every loop over the block fully unrolled, so that the accumulators are registers, not a stack array.
#pragma clang loop unroll(full)
    for (int r = 0; r < n; r++) acc[r] = _mm256_set1_ps(a->bias[o + r]);
    for (ptrdiff_t c = 0; c < a->input_channels; c++) {
        const float *base = a->padded + c * plane + 2 * y * row + 2 * x;
#pragma clang loop unroll(full)
        for (int t = 0; t < 9; t++) {
            const __m256 v = load_even8(base + (t / 3) * row + t % 3);
#pragma clang loop unroll(full)
            for (int r = 0; r < n; r++) acc[r] = _mm256_fmadd_ps(v, _mm256_broadcast_ss(w + r), acc[r]);
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

SN_TARGET void sn_conv3x3s2_avx2(const sn_conv3x3s2_args *a) {
    static const int sizes[] = {12, 8, 4, 1};
    const ptrdiff_t row = sn_padded_row(a->width), plane = sn_padded_plane_count(a->height, a->width);
    const ptrdiff_t out_w = (a->width - 1) / 2 + 1;
    for (ptrdiff_t y = a->row_begin; y < a->row_end; y++) {
        for (ptrdiff_t x = 0; x < out_w; x += 8) {
            for (ptrdiff_t o = 0; o < a->outputs;) {
                const int n = sn_channel_block(a->outputs - o, sizes);
                switch (n) {
                case 12: conv3x3s2_block(a, o, 12, y, x, row, plane, out_w); break;
                case 8: conv3x3s2_block(a, o, 8, y, x, row, plane, out_w); break;
                case 4: conv3x3s2_block(a, o, 4, y, x, row, plane, out_w); break;
                default: conv3x3s2_block(a, o, 1, y, x, row, plane, out_w); break;
                }
                o += n;
            }
        }
    }
}
#endif
