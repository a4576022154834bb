// What the drivers, packers and micro-kernels share and the public header does not show: the packed-weights
// object, the micro-kernels' declarations, and small helpers of the loops.
#ifndef SHUFFLENET_KERNELS_INTERNAL_H
#define SHUFFLENET_KERNELS_INTERNAL_H

#include "shufflenet_kernels.h"

#include <stdint.h>
#include <string.h>

/// Every micro-kernel file's helpers: inlined into the template bodies, so each ISA's copy is compiled with that
/// file's target attribute.
#define SN_INLINE static inline __attribute__((always_inline))

/// The 4 bytes at `p` (any alignment) as one int32: a quad of int8 weights for a broadcast.
SN_INLINE int32_t sn_load_quad(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

#if defined(__x86_64__) || defined(__i386__)
#define SN_KERNELS_X86 1
#else
#define SN_KERNELS_X86 0
#endif

/// Whether the compiler knows the AVX-VNNI target (clang 12+): its micro-kernel is compiled only then.
#if SN_KERNELS_X86 && defined(__clang__) && __clang_major__ >= 12
#define SN_HAVE_AVXVNNI 1
#else
#define SN_HAVE_AVXVNNI 0
#endif

/// Packed weights: the header, then the floats (64-byte aligned). `inputs` is the inputs per group of a pointwise
/// convolution, or the input channels of a 3x3 stride-2 one; `outputs_per_group` is 0 for the latter.
struct sn_packed_weights {
    sn_weights_layout layout;
    ptrdiff_t outputs;
    ptrdiff_t inputs;
    ptrdiff_t outputs_per_group;
    size_t bytes;
    const float *weights;
    const float *bias;
    // int8 layouts (SN_LAYOUT_QU8_*): `inputs` and `outputs_per_group` are the real K and M; per padded output row
    // (groups * roundup(M, 4) of them) the terms and epilogue constants.
    const int8_t *q_weights;
    const int32_t *q_terms;
    const float *q_multipliers;
    const float *q_bias;
    const float *q_inv_out;
    const int32_t *q_zero_out;
    const float *q_low;
    const float *q_high;
    /// Whether every output zero point is 0.
    int q_zero_out_all_zero;
};

/// A packed-weights object with room for `floats` floats after the header (weights, then `outputs` biases).
sn_packed_weights *sn_packed_weights_alloc(sn_weights_layout layout, size_t floats, float **data);

// MARK: - Micro-kernels (ukernels_<isa>.c; their bodies come from templates/ where noted)

// templates/f32_pointwise.h
void sn_f32_pointwise_ukernel_4x16__generic(const sn_f32_pointwise_tile *tile, const sn_f32_pointwise_params *params);
// templates/f32_dense.h
void sn_f32_dense_ukernel_4x4__generic(size_t rows, size_t inputs, const float *input, const float *weights,
                                       const float *bias, float *output);
void sn_f16_dense_ukernel_4x4__generic(size_t rows, size_t inputs, const float *input, const uint16_t *weights,
                                       const float *bias, float *output);
// templates/f32_dwconv3x3_plane.h
void sn_f32_dwconv3x3_ukernel_plane4__generic(const sn_f32_dwconv_plane *plane);
// templates/f32_conv3x3s2.h, templates/f32_pool3x3s2.h
void sn_f32_conv3x3s2_ukernel_1x4__generic(const sn_conv3x3s2_args *args, const float *weights, const float *bias,
                                           ptrdiff_t y, int rows, int first_row, int last_row);
void sn_f32_pool3x3s2_ukernel_4__generic(const sn_pool3x3s2_args *args, ptrdiff_t y, int rows);

// Every x86 micro-kernel comes from a template but the AVX-512 depthwise (chw16), which works in place.
#if SN_KERNELS_X86
void sn_f32_pointwise_ukernel_6x16__avx2_fma(const sn_f32_pointwise_tile *tile, const sn_f32_pointwise_params *params);
void sn_f32_dense_ukernel_4x8__avx2_fma(size_t rows, size_t inputs, const float *input, const float *weights,
                                        const float *bias, float *output);
void sn_f16_dense_ukernel_4x8__avx2_fma(size_t rows, size_t inputs, const float *input, const uint16_t *weights,
                                        const float *bias, float *output);
void sn_f32_dwconv3x3_ukernel_plane8__avx2_fma(const sn_f32_dwconv_plane *plane);
void sn_f32_conv3x3s2_ukernel_1x8__avx2_fma(const sn_conv3x3s2_args *args, const float *weights, const float *bias,
                                            ptrdiff_t y, int rows, int first_row, int last_row);
void sn_f32_pool3x3s2_ukernel_8__avx2_fma(const sn_pool3x3s2_args *args, ptrdiff_t y, int rows);

void sn_f32_pointwise_ukernel_8x48__avx512f(const sn_f32_pointwise_tile *tile, const sn_f32_pointwise_params *params);
void sn_f32_dense_ukernel_4x16__avx512f(size_t rows, size_t inputs, const float *input, const float *weights,
                                        const float *bias, float *output);
void sn_f16_dense_ukernel_4x16__avx512f(size_t rows, size_t inputs, const float *input, const uint16_t *weights,
                                        const float *bias, float *output);
void sn_f32_dwconv3x3_ukernel_chw16__avx512f(const sn_depthwise_args *args);
void sn_f32_conv3x3s2_ukernel_2x16__avx512f(const sn_conv3x3s2_args *args, const float *weights, const float *bias,
                                            ptrdiff_t y, int rows, int first_row, int last_row);
void sn_f32_pool3x3s2_ukernel_16__avx512f(const sn_pool3x3s2_args *args, ptrdiff_t y, int rows);
#endif

// templates/qu8_pointwise.h
void sn_qu8_pointwise_ukernel_4x8__generic(const sn_qu8_pointwise_tile *tile, const sn_qu8_pointwise_params *params);
#if SN_KERNELS_X86
void sn_qu8_pointwise_ukernel_4x16__avx2(const sn_qu8_pointwise_tile *tile, const sn_qu8_pointwise_params *params);
void sn_qu8_pointwise_ukernel_8x48__avx512vnni(const sn_qu8_pointwise_tile *tile, const sn_qu8_pointwise_params *params);
#if SN_HAVE_AVXVNNI
void sn_qu8_pointwise_ukernel_4x24__avxvnni(const sn_qu8_pointwise_tile *tile, const sn_qu8_pointwise_params *params);
#endif
#endif

// MARK: - Helpers

/// The window rows ky of a 3x3, stride-2, padding-1 window at output row y that lie inside a plane `height` rows
/// high: `*first ... *last` (the top output row has no row above, an even height's last one no row below).
static inline void sn_window_rows(ptrdiff_t y, ptrdiff_t height, int *first, int *last) {
    *first = y == 0 ? 1 : 0;
    *last = 2 * y + 1 < height ? 2 : 1;
}

/// The panels of a group of `outputs_per_group` channels packed `panel_rows` high (see `sn_f32_pointwise_pack`):
/// `count` panels, the first `wide` of them `narrow + 1` channels wide and the others `narrow`.
typedef struct sn_panel_split {
    ptrdiff_t count;
    ptrdiff_t narrow;
    ptrdiff_t wide;
} sn_panel_split;

static inline sn_panel_split sn_panel_split_of(ptrdiff_t outputs_per_group, ptrdiff_t panel_rows) {
    const ptrdiff_t count = (outputs_per_group + panel_rows - 1) / panel_rows;
    if (count == 0) return (sn_panel_split){0, 0, 0};
    return (sn_panel_split){count, outputs_per_group / count, outputs_per_group % count};
}

/// The panel holding channel `o` of a group (counted from the group's first channel) packed as `split` says, from `o`
/// to the panel's end or `end`: its weights for channel `o` (`weights` being the group's panels, `k` inputs), its
/// width and how many rows from `o` to take.
typedef struct sn_panel_rows {
    const float *weights;
    ptrdiff_t width;
    ptrdiff_t rows;
} sn_panel_rows;

static inline sn_panel_rows sn_panel_rows_at(const float *weights, ptrdiff_t k, ptrdiff_t narrow, ptrdiff_t wide,
                                             ptrdiff_t o, ptrdiff_t end) {
    const ptrdiff_t wide_rows = wide * (narrow + 1);
    ptrdiff_t start, width;  // the panel's first channel and width
    if (o < wide_rows) {
        width = narrow + 1;
        start = o / width * width;
    } else {
        width = narrow;
        start = wide_rows + (o - wide_rows) / width * width;
    }
    const ptrdiff_t lane = o - start;
    return (sn_panel_rows){
        .weights = weights + start * k + lane,
        .width = width,
        .rows = width - lane < end - o ? width - lane : end - o,
    };
}

/// Declares `a`, a local copy of the argument struct `args`, for the kernel to read instead: vector stores may alias
/// anything, so every field read through the caller's pointer would be reloaded after every store (measured with
/// AVX-512: 8% of the 1x1 convolutions' time, 30% of the pools').
/// An IEEE binary16 value (bit pattern) as a float, exactly (subnormals, infinities and NaN included).
SN_INLINE float sn_half_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1Fu, mantissa = h & 0x3FFu, bits;
    if (exponent == 0x1F) {
        bits = sign | 0x7F800000u | (mantissa << 13);
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;
    } else {  // subnormal: shift the leading 1 into the implicit bit
        exponent = 113;
        while ((mantissa & 0x400u) == 0) {
            mantissa <<= 1;
            exponent--;
        }
        bits = sign | (exponent << 23) | ((mantissa & 0x3FFu) << 13);
    }
    float f;
    __builtin_memcpy(&f, &bits, sizeof f);
    return f;
}

#define SN_LOCAL_ARGS(type) const type sn_local_args = *args, *a = &sn_local_args

/// The body of a pooling micro-kernel: `pool_columns(a, y, o, is_max, top, bottom)` (the ISA file's) with the
/// kind and the window's outer rows as constants, so that each combination is compiled as straight-line code (a
/// loop over 2 or 3 rows was compiled into branches that made the pools 3-4 times slower).
#define SN_POOL_COLUMNS(a, y, o, rows)                                                     \
    do {                                                                                   \
        const int top_ = ((rows) & SN_POOL_ROW_ABOVE) != 0, bottom_ = ((rows) & SN_POOL_ROW_BELOW) != 0; \
        const int is_max_ = (a)->kind == SN_POOL_MAX;                                      \
        if (top_ && bottom_) {                                                             \
            if (is_max_) pool_columns(a, y, o, 1, 1, 1); else pool_columns(a, y, o, 0, 1, 1); \
        } else if (bottom_) {                                                              \
            if (is_max_) pool_columns(a, y, o, 1, 0, 1); else pool_columns(a, y, o, 0, 0, 1); \
        } else if (top_) {                                                                 \
            if (is_max_) pool_columns(a, y, o, 1, 1, 0); else pool_columns(a, y, o, 0, 1, 0); \
        } else {                                                                           \
            if (is_max_) pool_columns(a, y, o, 1, 0, 0); else pool_columns(a, y, o, 0, 0, 0); \
        }                                                                                  \
    } while (0)

// MARK: - int8 depthwise (qu8_depthwise.c, templates/qu8_dwconv3x3.h)

/// One output block's packed record: the 4 channels that land in it (slot j: depthwise channel `channel[j]`, or
/// -1 for a group's padding slot, whose weights, terms and constants are zero: it gets code 0).
typedef struct sn_qu8_dw_record {
    /// Kernel row ky (taps 3ky ... 3ky + 2, then a zero): slot j's 4 weights at [ky][4j ... 4j + 3].
    int8_t w[3][16];
    /// The same as int16 pairs: (w0, w2) of slot j at [ky][2j ... 2j + 1], and (w1, 0).
    int16_t w_even[3][8];
    int16_t w_odd[3][8];
    int32_t term[4];
    float multiplier[4];
    float bias[4];
    float inv_out[4];
    /// -zero_out and 255 - zero_out.
    float low[4];
    float high[4];
    int32_t zero_out[4];
    /// The input slot (group-padded channel index) of each slot's channel; the padding code of its border.
    int32_t source[4];
    int32_t pad_code[4];
    int32_t channel[4];
    uint8_t reserved[16];
} sn_qu8_dw_record;

void sn_qu8_dwconv3x3_ukernel_4__generic(const sn_qu8_dwconv_block *block);
#if SN_KERNELS_X86
void sn_qu8_dwconv3x3_ukernel_8__avx2(const sn_qu8_dwconv_block *block);
void sn_qu8_dwconv3x3_ukernel_16__avx512vnni(const sn_qu8_dwconv_block *block);
#endif

#endif
