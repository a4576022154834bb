// Portable variant: plain C shaped so that the compiler vectorises it for whatever the baseline of the target is
// (fixed-size inner loops over 16 pixels with independent accumulators). Used on CPUs without AVX2 + FMA and on
// other architectures, and as a readable statement of what the intrinsic variants compute.
#include "kernels_internal.h"

/// `bias + sum` through the epilogue.
static inline float finish(const sn_pointwise_args *a, float v, ptrdiff_t o, ptrdiff_t p) {
    if (a->epilogue == SN_EPILOGUE_LINEAR) return v;
    if (a->epilogue == SN_EPILOGUE_ADD_RESIDUAL_RELU) v += a->residual[o * a->residual_plane_stride + p];
    return v > 0 ? v : 0;
}

/// Output channels o ..< o + rows (rows <= 4) of one group, 16 pixels at a time. With `rows` a constant at each
/// call site the accumulator block lives in vector registers.
static inline void block(const sn_pointwise_args *a, const float *x, ptrdiff_t o, const int rows) {
    const ptrdiff_t k = a->inputs_per_group, xs = a->input_plane_stride;
    const float *w = a->weights + o * k;
    for (ptrdiff_t p = 0; p < a->pixels; p += 16) {
        float acc[4][16] = {{0}};
        const float *xp = x + p;
        for (ptrdiff_t i = 0; i < k; i++, xp += xs) {
            for (int r = 0; r < rows; r++) {
                const float c = w[r * k + i];
                for (int j = 0; j < 16; j++) acc[r][j] += xp[j] * c;
            }
        }
        for (int r = 0; r < rows; r++) {
            float *out = a->output + (o + r) * a->output_plane_stride + p;
            for (int j = 0; j < 16; j++) out[j] = finish(a, acc[r][j] + a->bias[o + r], o + r, p + j);
        }
    }
}

void sn_pointwise_generic(const sn_pointwise_args *a) {
    ptrdiff_t first, last;
    sn_group_span(a, &first, &last);
    for (ptrdiff_t g = first; g < last; g++) {
        const float *x = a->input + g * a->inputs_per_group * a->input_plane_stride;
        ptrdiff_t o = g * a->outputs_per_group > a->output_begin ? g * a->outputs_per_group : a->output_begin;
        const ptrdiff_t end = (g + 1) * a->outputs_per_group < a->output_end ? (g + 1) * a->outputs_per_group : a->output_end;
        for (; o + 4 <= end; o += 4) block(a, x, o, 4);
        for (; o < end; o++) block(a, x, o, 1);
    }
}

/// The whole plane for one stride; `stride` is a constant in each call below, so each gets its own loop.
static inline void depthwise_plane(const sn_depthwise_plane_args *a, const int stride) {
    const float *t = a->taps;
    const ptrdiff_t width = a->output_width, row = a->padded_row;
    for (ptrdiff_t y = 0; y < a->output_height; y++) {
        const float *r0 = a->padded + stride * y * row, *r1 = r0 + row, *r2 = r1 + row;
        float *dst = a->output + y * width;
        for (ptrdiff_t x = 0; x < width; x++) {
            const ptrdiff_t c = stride * x;
            float acc = a->bias;
            acc += r0[c] * t[0];
            acc += r0[c + 1] * t[1];
            acc += r0[c + 2] * t[2];
            acc += r1[c] * t[3];
            acc += r1[c + 1] * t[4];
            acc += r1[c + 2] * t[5];
            acc += r2[c] * t[6];
            acc += r2[c + 1] * t[7];
            acc += r2[c + 2] * t[8];
            dst[x] = acc;
        }
    }
}

void sn_depthwise_plane_generic(const sn_depthwise_plane_args *a) {
    if (a->stride == 1) {
        depthwise_plane(a, 1);
    } else {
        depthwise_plane(a, 2);
    }
}

void sn_dense_generic(const sn_dense_args *a) {
    const ptrdiff_t n = a->inputs;
    for (ptrdiff_t o = a->output_begin; o < a->output_end; o++) {
        const float *w = a->weights + o * n;
        // Sixteen partial sums: the compiler may not reorder one float sum, but it can vectorise sixteen.
        float partial[16] = {0};
        ptrdiff_t i = 0;
        for (; i + 16 <= n; i += 16) {
            for (int j = 0; j < 16; j++) partial[j] += w[i + j] * a->input[i + j];
        }
        float sum = 0;
        for (; i < n; i++) sum += w[i] * a->input[i];
        for (int j = 0; j < 16; j++) sum += partial[j];
        a->output[o] = sum + (a->bias ? a->bias[o] : 0.0f);
    }
}
