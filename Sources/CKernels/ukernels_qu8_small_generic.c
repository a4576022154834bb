// Portable micro-kernels of the small int8 operators (qu8_small_internal.h): plain loops, the scheme's arithmetic
// literally (the rounding by the 1.5 * 2^23 trick, exact for the clamped values, so no libm call).
#include "qu8_small_internal.h"

#include <math.h>
#include <string.h>

SN_INLINE int32_t small_rint(float f) { return (int32_t)((f + 12582912.0f) - 12582912.0f); }

SN_INLINE int32_t small_quantize(float v, const sn_qu8_requant *q) {
    float s = v * q->inv_scale;
    s = s < q->low ? q->low : s;
    s = s > q->high ? q->high : s;
    return small_rint(s) + q->zero_point;
}

void sn_qu8_quantize_ukernel__generic(const float *input, ptrdiff_t plane_stride, size_t channels, size_t pixels,
                                      uint8_t *output, const sn_qu8_requant *q) {
    // Channel by channel (a loop the compiler vectorizes), then the missing channels of the block.
    for (size_t j = 0; j < 4; j++) {
        const float *x = input + (ptrdiff_t)j * plane_stride;
        uint8_t *y = output + j;
        if (j < channels) {
            for (size_t p = 0; p < pixels; p++) y[4 * p] = (uint8_t)small_quantize(x[p], q);
        } else {
            for (size_t p = 0; p < pixels; p++) y[4 * p] = (uint8_t)q->zero_point;
        }
    }
}

/// Output columns per step of the portable average pool (its column sums live on the stack).
enum { SN_QA_GENERIC_STEP = 64 };

void sn_qu8_avgpool3x3s2_ukernel__generic(const uint8_t *input, ptrdiff_t input_block_stride, uint8_t *output,
                                          ptrdiff_t output_block_stride, size_t blocks, ptrdiff_t height, ptrdiff_t width,
                                          const sn_qu8_avgpool_params *p) {
    // As the vector kernels: padding taps read as the zero point, so every window sums 9 taps, minus 9z.
    const ptrdiff_t oh = (height - 1) / 2 + 1, ow = (width - 1) / 2 + 1;
    const int32_t z = p->input_zero_point;
    int32_t columns[(2 * SN_QA_GENERIC_STEP + 1) * 4];
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *x = input + (ptrdiff_t)b * input_block_stride;
        uint8_t *y = output + (ptrdiff_t)b * output_block_stride;
        for (ptrdiff_t oy = 0; oy < oh; oy++) {
            const uint8_t *rows[3];
            for (int k = 0; k < 3; k++) {
                const ptrdiff_t iy = 2 * oy - 1 + k;
                rows[k] = iy >= 0 && iy < height ? x + 4 * iy * width : NULL;
            }
            for (ptrdiff_t ox0 = 0; ox0 < ow; ox0 += SN_QA_GENERIC_STEP) {
                const ptrdiff_t n = ow - ox0 < SN_QA_GENERIC_STEP ? ow - ox0 : SN_QA_GENERIC_STEP;
                // Column sums of input columns 2 ox0 - 1 ... 2 (ox0 + n) - 1.
                for (ptrdiff_t i = 0; i < 2 * n + 1; i++) {
                    const ptrdiff_t ix = 2 * ox0 - 1 + i;
                    for (int j = 0; j < 4; j++) {
                        int32_t sum = 0;
                        for (int k = 0; k < 3; k++) sum += rows[k] != NULL && ix >= 0 && ix < width ? rows[k][4 * ix + j] : z;
                        columns[4 * i + j] = sum;
                    }
                }
                for (ptrdiff_t o = 0; o < n; o++) {
                    for (int j = 0; j < 4; j++) {
                        const int32_t sum = columns[8 * o + j] + columns[8 * o + 4 + j] + columns[8 * o + 8 + j] - 9 * z;
                        y[4 * (oy * ow + ox0 + o) + j] = (uint8_t)small_quantize((float)sum * p->step, &p->out);
                    }
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

typedef int8_t dn_i8x8 __attribute__((ext_vector_type(8)));
typedef int16_t dn_i16x8 __attribute__((ext_vector_type(8)));
typedef int32_t dn_i32x8 __attribute__((ext_vector_type(8)));
typedef int32_t dn_i32x4 __attribute__((ext_vector_type(4)));

/// Two rows' quads (8 s8 weights) times the input quad twice, pairwise summed: the multiply-add pattern compilers
/// lower to pmaddwd (x86) / smlal pairs (arm64). Exact: |w x| <= 127 * 255 and the pair sums stay in int32.
SN_INLINE dn_i32x4 dense_madd(dn_i32x4 acc, const int8_t *w, dn_i16x8 x) {
    dn_i8x8 bytes;
    memcpy(&bytes, w, sizeof bytes);
    const dn_i32x8 prod = __builtin_convertvector(__builtin_convertvector(bytes, dn_i16x8), dn_i32x8)
        * __builtin_convertvector(x, dn_i32x8);
    return acc + __builtin_shufflevector(prod, prod, 0, 2, 4, 6) + __builtin_shufflevector(prod, prod, 1, 3, 5, 7);
}

void sn_qu8_dense_ukernel_16__generic(const sn_qu8_dense_tile *tile) {
    const sn_qu8_dense_tile t = *tile;
    for (size_t panel = 0; panel < t.panels; panel++) {
        const int8_t *w = t.weights + panel * t.quads * 64;
        // acc[k]: rows 2k and 2k + 1, each as two partial sums (lanes 0, 1 and 2, 3).
        dn_i32x4 acc[8];
        for (int k = 0; k < 8; k++) acc[k] = (dn_i32x4)(0);
        for (size_t q = 0; q < t.quads; q++, w += 64) {
            uint8_t x[4];
            if (q < t.full_quads) memcpy(x, t.input + 4 * q, 4);
            else for (int j = 0; j < 4; j++) x[j] = (uint8_t)(t.tail_quad >> (8 * j));
            const dn_i16x8 xv = {x[0], x[1], x[2], x[3], x[0], x[1], x[2], x[3]};
            for (int k = 0; k < 8; k++) acc[k] = dense_madd(acc[k], w + 8 * k, xv);
        }
        for (size_t r = 0; r < 16; r++) {
            const size_t row = panel * 16 + r;
            const dn_i32x4 a = acc[r / 2];
            const int32_t sum = t.terms[row] + (r % 2 == 0 ? a[0] + a[1] : a[2] + a[3]);
            if (row >= t.begin && row < t.end) t.output[row] = fmaf((float)sum, t.multipliers[row], t.bias[row]);
        }
    }
}

// The channel copy (templates/qu8_copy_channels.h), vectorized by the compiler for the baseline.
#define SN_QC_UKERNEL sn_qu8_copy_channels_ukernel__generic
#include "templates/qu8_copy_channels.h"
