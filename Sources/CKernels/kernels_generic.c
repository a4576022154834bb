// Portable variant: plain C shaped so that the compiler vectorises it for whatever the baseline of the target is
// (fixed-size inner loops over 16 pixels with independent accumulators). Used on CPUs without AVX2 + FMA and on
// other architectures. It computes the same results by simpler loops, not the intrinsic variants' algorithms
// (their register blocks, pixel tiles, fused bands, masked loads and prefetching differ): read the naive reference
// kernels (ShuffleNetEngine/Kernels/ReferenceKernels.swift) for what every variant must compute.
#include "kernels_internal.h"

/// `bias + sum` through the epilogue.
static inline float finish(const sn_pointwise_args *a, float v, ptrdiff_t o, ptrdiff_t p) {
    if (a->epilogue == SN_EPILOGUE_LINEAR) return v;
    if (a->epilogue == SN_EPILOGUE_ADD_RESIDUAL_RELU) v += a->residual[o * a->residual_plane_stride + p];
    return v > 0 ? v : 0;
}

/// Output channels o ..< o + rows of one group (rows of one weight panel, `w`; rows <= 4), 16 pixels at a time, the
/// last block's padding pixels too (the planes have room for them). With `rows` a constant at each call site the
/// accumulator block lives in vector registers.
static inline void block(const sn_pointwise_args *a, const float *x, ptrdiff_t o, sn_panel_rows w, const int rows) {
    const ptrdiff_t k = a->inputs_per_group, xs = a->input_plane_stride, ws = w.width;
    for (ptrdiff_t p = 0; p < a->pixels; p += 16) {
        float acc[4][16] = {{0}};
        const float *xp = x + p, *wp = w.weights;
        for (ptrdiff_t i = 0; i < k; i++, xp += xs, wp += ws) {
            for (int r = 0; r < rows; r++) {
                const float c = wp[r];
                for (int j = 0; j < 16; j++) acc[r][j] += xp[j] * c;
            }
        }
        for (int r = 0; r < rows; r++) {
            float *out = a->output + (o + r) * a->output_plane_stride + p;
            for (int j = 0; j < 16; j++) out[j] = finish(a, acc[r][j] + a->bias[o + r], o + r, p + j);
        }
    }
}

void sn_pointwise_generic(const sn_pointwise_args *args) {
    SN_LOCAL_ARGS(sn_pointwise_args);
    ptrdiff_t first, last;
    sn_group_span(a, &first, &last);
    for (ptrdiff_t g = first; g < last; g++) {
        const sn_group_slice group = sn_group_slice_of(a, g);
        for (ptrdiff_t o = group.begin; o < group.end;) {
            const sn_panel_rows panel = sn_panel_rows_at(a, &group, o);
            // The panel's rows in blocks of at most 4 (16 SSE2 registers hold 4 x 16 accumulators).
            const int step = (panel.rows + (panel.rows + 3) / 4 - 1) / ((panel.rows + 3) / 4);
            for (int r0 = 0; r0 < panel.rows; r0 += step) {
                const sn_panel_rows w = {panel.weights + r0, panel.width, panel.rows - r0 < step ? panel.rows - r0 : step};
                switch (w.rows) {
                case 4: block(a, group.input, o + r0, w, 4); break;
                case 3: block(a, group.input, o + r0, w, 3); break;
                case 2: block(a, group.input, o + r0, w, 2); break;
                default: block(a, group.input, o + r0, w, 1); break;
                }
            }
            o += panel.rows;
        }
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

void sn_depthwise_plane_generic(const sn_depthwise_plane_args *args) {
    SN_LOCAL_ARGS(sn_depthwise_plane_args);
    if (a->stride == 1) {
        depthwise_plane(a, 1);
    } else {
        depthwise_plane(a, 2);
    }
}

void sn_dense_generic(const sn_dense_args *args) {
    SN_LOCAL_ARGS(sn_dense_args);
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

void sn_conv3x3s2_generic(const sn_conv3x3s2_args *args) {
    SN_LOCAL_ARGS(sn_conv3x3s2_args);
    const ptrdiff_t width = a->width, out_w = (width - 1) / 2 + 1;
    for (ptrdiff_t o = 0; o < a->outputs; o++) {
        const float *w = a->weights + o;  // tap t of input channel c at w[(9 * c + t) * outputs]
        for (ptrdiff_t y = a->row_begin; y < a->row_end; y++) {
            // The output row is its own accumulator: one tap at a time over the whole row, a loop with a
            // stride-2 load the compiler can vectorise. Taps outside the plane (padding) are left out.
            float *dst = a->output + o * a->output_plane_stride + (y - a->output_row_base) * out_w;
            for (ptrdiff_t x = 0; x < out_w; x++) dst[x] = a->bias[o];
            int first, last;
            sn_window_rows(y, a->height, &first, &last);
            for (ptrdiff_t c = 0; c < a->input_channels; c++) {
                for (int ky = first; ky <= last; ky++) {
                    const float *line = a->input + c * a->input_plane_stride + (2 * y - 1 + ky) * width;
                    for (int kx = 0; kx < 3; kx++) {
                        const float tap = w[(9 * c + 3 * ky + kx) * a->outputs];
                        // Column 2x + kx - 1 must lie in 0 ..< width.
                        const ptrdiff_t x0 = kx == 0 ? 1 : 0, x1 = (width - kx) / 2 + 1 < out_w ? (width - kx) / 2 + 1 : out_w;
                        for (ptrdiff_t x = x0; x < x1; x++) dst[x] += line[2 * x + kx - 1] * tap;
                    }
                }
            }
            for (ptrdiff_t x = 0; x < out_w; x++) dst[x] = dst[x] > 0 ? dst[x] : 0;
        }
    }
}

/// Outputs per chunk of a pooled row: the chunk's columns, combined down the window's rows, fit a stack array.
enum { POOL_CHUNK = 32 };

void sn_pool3x3s2_generic(const sn_pool3x3s2_args *args) {
    SN_LOCAL_ARGS(sn_pool3x3s2_args);
    const ptrdiff_t height = a->height, width = a->width;
    const ptrdiff_t out_w = (width - 1) / 2 + 1;
    const int is_max = a->kind == SN_POOL_MAX;
    const float padding = is_max ? -__builtin_inff() : 0.0f;
    for (ptrdiff_t c = a->channel_begin; c < a->channel_end; c++) {
        const float *src = a->input + c * a->input_plane_stride;
        float *dst = a->output + c * a->output_plane_stride;
        for (ptrdiff_t y = a->row_begin; y < a->row_end; y++) {
            // Rows 2y-1 .. 2y+1 that exist (2y always does).
            const float *rows[3];
            int n = 0;
            for (ptrdiff_t r = 2 * y - 1; r <= 2 * y + 1; r++) {
                if (r >= 0 && r < height) rows[n++] = src + (r - a->input_row_base) * width;
            }
            for (ptrdiff_t o0 = 0; o0 < out_w; o0 += POOL_CHUNK) {
                const ptrdiff_t count = out_w - o0 < POOL_CHUNK ? out_w - o0 : POOL_CHUNK;
                // column[j]: input column 2*o0 - 1 + j combined over the rows (the padding value outside the plane).
                float column[2 * POOL_CHUNK + 1];
                for (ptrdiff_t j = 0; j < 2 * count + 1; j++) {
                    const ptrdiff_t x = 2 * o0 - 1 + j;
                    float v = padding;
                    if (x >= 0 && x < width) {
                        v = rows[0][x];
                        for (int i = 1; i < n; i++) v = is_max ? (rows[i][x] > v ? rows[i][x] : v) : v + rows[i][x];
                    }
                    column[j] = v;
                }
                float *out = dst + y * out_w + o0;
                for (ptrdiff_t i = 0; i < count; i++) {
                    const float l = column[2 * i], m = column[2 * i + 1], r = column[2 * i + 2];
                    if (is_max) {
                        const float lm = l > m ? l : m;
                        out[i] = lm > r ? lm : r;
                    } else {
                        out[i] = (l + m + r) * (1.0f / 9.0f);
                    }
                }
            }
        }
    }
}
