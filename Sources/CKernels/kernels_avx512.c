// AVX-512F variant: 16 floats per register, 32 registers. Compiled for any x86-64 (the functions carry their own
// target attribute) and only called after dispatch.c has checked the CPU.
#include "kernels_internal.h"

#if SN_KERNELS_X86
#include <immintrin.h>

#define SN_TARGET __attribute__((target("avx512f,avx2,fma")))
#define SN_INLINE static inline __attribute__((always_inline, target("avx512f,avx2,fma")))

/// `bias + sum` through the epilogue, stored to output channel `o` at pixel `p`.
SN_INLINE void finish(const sn_pointwise_args *a, __m512 sum, __m512 bias, ptrdiff_t o, ptrdiff_t p) {
    __m512 v = _mm512_add_ps(sum, bias);
    if (a->epilogue != SN_EPILOGUE_LINEAR) {
        if (a->epilogue == SN_EPILOGUE_ADD_RESIDUAL_RELU) {
            v = _mm512_add_ps(v, _mm512_loadu_ps(a->residual + o * a->residual_plane_stride + p));
        }
        v = _mm512_max_ps(v, _mm512_setzero_ps());
    }
    _mm512_storeu_ps(a->output + o * a->output_plane_stride + p, v);
}

/// Output channels o .. o+3 of one group, pixels p .. end-1. The 4 x 64 block keeps 16 accumulators in
/// registers while streaming over the group's inputs: each input vector loaded feeds four FMAs, and so does
/// each broadcast weight.
SN_INLINE void rows4(const sn_pointwise_args *a, const float *x, ptrdiff_t o, ptrdiff_t p, ptrdiff_t end) {
    const ptrdiff_t k = a->inputs_per_group, xs = a->input_plane_stride;
    const float *w = a->weights + o * k;
    __m512 bias[4];
    for (int r = 0; r < 4; r++) bias[r] = _mm512_set1_ps(a->bias[o + r]);
    for (; p + 64 <= end; p += 64) {
        __m512 acc[4][4];
        for (int r = 0; r < 4; r++)
            for (int j = 0; j < 4; j++) acc[r][j] = _mm512_setzero_ps();
        const float *xp = x + p;
        for (ptrdiff_t i = 0; i < k; i++, xp += xs) {
            __m512 xv[4];
            for (int j = 0; j < 4; j++) xv[j] = _mm512_loadu_ps(xp + 16 * j);
            for (int r = 0; r < 4; r++) {
                const __m512 c = _mm512_set1_ps(w[r * k + i]);
                for (int j = 0; j < 4; j++) acc[r][j] = _mm512_fmadd_ps(xv[j], c, acc[r][j]);
            }
        }
        for (int r = 0; r < 4; r++)
            for (int j = 0; j < 4; j++) finish(a, acc[r][j], bias[r], o + r, p + 16 * j);
    }
    for (; p < end; p += 16) {
        __m512 acc[4];
        for (int r = 0; r < 4; r++) acc[r] = _mm512_setzero_ps();
        const float *xp = x + p;
        for (ptrdiff_t i = 0; i < k; i++, xp += xs) {
            const __m512 xv = _mm512_loadu_ps(xp);
            for (int r = 0; r < 4; r++) acc[r] = _mm512_fmadd_ps(xv, _mm512_set1_ps(w[r * k + i]), acc[r]);
        }
        for (int r = 0; r < 4; r++) finish(a, acc[r], bias[r], o + r, p);
    }
}

/// One output channel: the remainder when a group's slice of outputs is not a multiple of 4.
SN_INLINE void row1(const sn_pointwise_args *a, const float *x, ptrdiff_t o, ptrdiff_t p, ptrdiff_t end) {
    const ptrdiff_t k = a->inputs_per_group, xs = a->input_plane_stride;
    const float *w = a->weights + o * k;
    const __m512 bias = _mm512_set1_ps(a->bias[o]);
    for (; p < end; p += 16) {
        __m512 acc = _mm512_setzero_ps();
        const float *xp = x + p;
        for (ptrdiff_t i = 0; i < k; i++, xp += xs) acc = _mm512_fmadd_ps(_mm512_loadu_ps(xp), _mm512_set1_ps(w[i]), acc);
        finish(a, acc, bias, o, p);
    }
}

SN_TARGET void sn_pointwise_avx512(const sn_pointwise_args *a) {
    ptrdiff_t first, last;
    sn_group_span(a, &first, &last);
    for (ptrdiff_t g = first; g < last; g++) {
        const float *x = a->input + g * a->inputs_per_group * a->input_plane_stride;
        ptrdiff_t o = g * a->outputs_per_group > a->output_begin ? g * a->outputs_per_group : a->output_begin;
        const ptrdiff_t end = (g + 1) * a->outputs_per_group < a->output_end ? (g + 1) * a->outputs_per_group : a->output_end;
        // Pixel tiles outermost: a tile of the group's inputs (K planes x tile pixels) stays in L1 while every
        // row block of the group uses it, instead of the whole input streaming from L2 once per row block.
        ptrdiff_t tile = a->inputs_per_group > 0 ? (24 * 1024 / ((ptrdiff_t)sizeof(float) * a->inputs_per_group)) / 64 * 64 : a->pixels;
        if (tile < 64) tile = 64;
        for (ptrdiff_t p = 0; p < a->pixels; p += tile) {
            const ptrdiff_t pend = p + tile < a->pixels ? p + tile : a->pixels;
            ptrdiff_t r = o;
            for (; r + 4 <= end; r += 4) rows4(a, x, r, p, pend);
            for (; r < end; r++) row1(a, x, r, p, pend);
        }
    }
}

/// `p[0], p[2], ..., p[30]`: the stride-2 window's columns for 16 outputs, from two loads and one permute.
SN_INLINE __m512 load_even(const float *p) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_loadu_ps(p + 16));
}

/// The whole plane for one stride; `stride` is a constant in each call below, so each gets its own loop.
SN_INLINE void depthwise_plane(const sn_depthwise_plane_args *a, const int stride) {
    __m512 t[9];
    for (int i = 0; i < 9; i++) t[i] = _mm512_set1_ps(a->taps[i]);
    const __m512 bias = _mm512_set1_ps(a->bias);
    const ptrdiff_t width = a->output_width, row = a->padded_row;
    for (ptrdiff_t y = 0; y < a->output_height; y++) {
        const float *r0 = a->padded + stride * y * row;
        float *dst = a->output + y * width;
        for (ptrdiff_t x = 0; x < width; x += 16) {
            __m512 acc = bias;
            for (int ky = 0; ky < 3; ky++) {
                for (int kx = 0; kx < 3; kx++) {
                    const float *r = r0 + ky * row + stride * x + kx;
                    acc = _mm512_fmadd_ps(stride == 1 ? _mm512_loadu_ps(r) : load_even(r), t[3 * ky + kx], acc);
                }
            }
            // The last block of a row may be partial: a masked store leaves the next row's pixels alone.
            const ptrdiff_t left = width - x;
            const __mmask16 keep = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
            _mm512_mask_storeu_ps(dst + x, keep, acc);
        }
    }
}

SN_TARGET void sn_depthwise_plane_avx512(const sn_depthwise_plane_args *a) {
    if (a->stride == 1) {
        depthwise_plane(a, 1);
    } else {
        depthwise_plane(a, 2);
    }
}

SN_TARGET void sn_dense_avx512(const sn_dense_args *a) {
    const ptrdiff_t n = a->inputs;
    const __mmask16 tail = (__mmask16)((1u << (n % 16)) - 1);
    for (ptrdiff_t o = a->output_begin; o < a->output_end; o++) {
        const float *w = a->weights + o * n;
        __m512 acc = _mm512_setzero_ps();
        ptrdiff_t i = 0;
        for (; i + 16 <= n; i += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), _mm512_loadu_ps(a->input + i), acc);
        // Masked loads read nothing past the end of the row or of the input.
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, w + i), _mm512_maskz_loadu_ps(tail, a->input + i), acc);
        a->output[o] = _mm512_reduce_add_ps(acc) + (a->bias ? a->bias[o] : 0.0f);
    }
}
#endif
