// Portable micro-kernels of the small int8 operators (qu8_small_internal.h): plain loops, the scheme's arithmetic
// literally (the rounding by the 1.5 * 2^23 trick, exact for the clamped values, so no libm call).
#include "qu8_small_internal.h"

#include <math.h>

SN_INLINE int32_t small_rint(float f) { return (int32_t)((f + 12582912.0f) - 12582912.0f); }

SN_INLINE int32_t small_quantize(float v, const sn_qu8_requant *q) {
    float s = v * q->inv_scale;
    s = s < q->low ? q->low : s;
    s = s > q->high ? q->high : s;
    return small_rint(s) + q->zero_point;
}

void sn_qu8_quantize_ukernel__generic(const float *input, ptrdiff_t plane_stride, size_t channels, size_t pixels,
                                      uint8_t *output, const sn_qu8_requant *q) {
    for (size_t p = 0; p < pixels; p++) {
        for (size_t j = 0; j < 4; j++) {
            output[4 * p + j] = (uint8_t)(j < channels ? small_quantize(input[(ptrdiff_t)j * plane_stride + (ptrdiff_t)p], q)
                                                       : q->zero_point);
        }
    }
}

void sn_qu8_avgpool3x3s2_ukernel__generic(const uint8_t *input, ptrdiff_t input_block_stride, uint8_t *output,
                                          ptrdiff_t output_block_stride, size_t blocks, ptrdiff_t height, ptrdiff_t width,
                                          const sn_qu8_avgpool_params *p) {
    const ptrdiff_t oh = (height - 1) / 2 + 1, ow = (width - 1) / 2 + 1;
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *x = input + (ptrdiff_t)b * input_block_stride;
        uint8_t *y = output + (ptrdiff_t)b * output_block_stride;
        for (ptrdiff_t oy = 0; oy < oh; oy++) {
            for (ptrdiff_t ox = 0; ox < ow; ox++) {
                for (int j = 0; j < 4; j++) {
                    int32_t sum = 0;
                    for (ptrdiff_t iy = 2 * oy - 1; iy <= 2 * oy + 1; iy++) {
                        if (iy < 0 || iy >= height) continue;
                        for (ptrdiff_t ix = 2 * ox - 1; ix <= 2 * ox + 1; ix++) {
                            if (ix < 0 || ix >= width) continue;
                            sum += (int32_t)x[4 * (iy * width + ix) + j] - p->input_zero_point;
                        }
                    }
                    y[4 * (oy * ow + ox) + j] = (uint8_t)small_quantize((float)sum * p->step, &p->out);
                }
            }
        }
    }
}

void sn_qu8_gavgpool_ukernel__generic(const uint8_t *input, ptrdiff_t block_stride, size_t channels, size_t pixels,
                                      const sn_qu8_gap_params *p, float *features, uint8_t *codes) {
    for (size_t c = 0; c < channels; c++) {
        const uint8_t *x = input + (ptrdiff_t)(c / 4) * block_stride + c % 4;
        int32_t sum = 0;
        for (size_t i = 0; i < pixels; i++) sum += x[4 * i];
        sum -= (int32_t)pixels * p->zero_point;
        const float f = (float)sum * p->scale / p->pixels;
        features[c] = f;
        if (codes) codes[c] = (uint8_t)small_quantize(f, &p->codes);
    }
}

void sn_qu8_dense_ukernel_16__generic(const sn_qu8_dense_tile *tile) {
    const sn_qu8_dense_tile t = *tile;
    for (size_t panel = 0; panel < t.panels; panel++) {
        const int8_t *w = t.weights + panel * t.quads * 64;
        int32_t acc[16];
        for (int r = 0; r < 16; r++) acc[r] = t.terms[panel * 16 + r];
        for (size_t q = 0; q < t.quads; q++, w += 64) {
            uint8_t x[4];
            if (q < t.full_quads) {
                memcpy(x, t.input + 4 * q, 4);
            } else {
                for (int j = 0; j < 4; j++) x[j] = (uint8_t)(t.tail_quad >> (8 * j));
            }
            for (int r = 0; r < 16; r++) {
                acc[r] += (int32_t)w[4 * r] * x[0] + (int32_t)w[4 * r + 1] * x[1] + (int32_t)w[4 * r + 2] * x[2]
                    + (int32_t)w[4 * r + 3] * x[3];
            }
        }
        for (size_t r = 0; r < 16; r++) {
            const size_t row = panel * 16 + r;
            if (row >= t.begin && row < t.end) t.output[row] = fmaf((float)acc[r], t.multipliers[row], t.bias[row]);
        }
    }
}
