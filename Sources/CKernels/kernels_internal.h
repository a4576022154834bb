// The per-variant implementations behind the dispatching entry points of shufflenet_kernels.h. Arguments are
// validated by the entry points (dispatch.c) before any of these run.
#ifndef SHUFFLENET_KERNELS_INTERNAL_H
#define SHUFFLENET_KERNELS_INTERNAL_H

#include "shufflenet_kernels.h"

/// One channel of a depthwise convolution, already copied into a zero-bordered scratch plane:
/// `padded[(y + 1) * padded_row + x + 1]` is input pixel (y, x). Writes `output_height x output_width` floats.
typedef struct sn_depthwise_plane_args {
    const float *padded;
    ptrdiff_t padded_row;
    /// The nine taps, row-major.
    const float *taps;
    float bias;
    float *output;
    ptrdiff_t output_height;
    ptrdiff_t output_width;
    int stride;
} sn_depthwise_plane_args;

typedef void (*sn_depthwise_plane_kernel)(const sn_depthwise_plane_args *args);

#if defined(__x86_64__) || defined(__i386__)
#define SN_KERNELS_X86 1
#else
#define SN_KERNELS_X86 0
#endif

void sn_pointwise_generic(const sn_pointwise_args *args);
void sn_depthwise_plane_generic(const sn_depthwise_plane_args *args);
void sn_dense_generic(const sn_dense_args *args);
void sn_conv3x3s2_generic(const sn_conv3x3s2_args *args);
void sn_pool3x3s2_generic(const sn_pool3x3s2_args *args);

#if SN_KERNELS_X86
void sn_pointwise_avx2(const sn_pointwise_args *args);
void sn_depthwise_plane_avx2(const sn_depthwise_plane_args *args);
void sn_dense_avx2(const sn_dense_args *args);
void sn_conv3x3s2_avx2(const sn_conv3x3s2_args *args);
void sn_pool3x3s2_avx2(const sn_pool3x3s2_args *args);

void sn_pointwise_avx512(const sn_pointwise_args *args);
void sn_depthwise3x3_avx512(const sn_depthwise_args *args);
void sn_dense_avx512(const sn_dense_args *args);
void sn_conv3x3s2_avx512(const sn_conv3x3s2_args *args);
void sn_pool3x3s2_avx512(const sn_pool3x3s2_args *args);
#endif

/// Output channels handled together by the AVX2 conv3x3s2 kernel (the only user; the AVX-512 one picks its blocks
/// inline, the portable one does one channel at a time): the largest of `sizes` (descending, ending in 1) that fits
/// in what is left, so each block size is a compile-time constant in its own loop.
static inline int sn_channel_block(ptrdiff_t left, const int *sizes) {
    int i = 0;
    while (sizes[i] > left) i++;
    return sizes[i];
}

/// The window rows ky of a 3x3, stride-2, padding-1 window at output row y that lie inside a plane `height` rows
/// high: `*first ... *last` (the top output row has no row above, an even height's last one no row below).
static inline void sn_window_rows(ptrdiff_t y, ptrdiff_t height, int *first, int *last) {
    *first = y == 0 ? 1 : 0;
    *last = 2 * y + 1 < height ? 2 : 1;
}

/// The first group and one past the last group that output channels `begin ..< end` touch.
static inline void sn_group_span(const sn_pointwise_args *a, ptrdiff_t *first, ptrdiff_t *last) {
    *first = a->output_begin / a->outputs_per_group;
    *last = (a->output_end + a->outputs_per_group - 1) / a->outputs_per_group;
}

/// What a pointwise call computes of group `g`: the group's first input plane, its first output channel, and its
/// output channels `begin ..< end` that lie in `output_begin ..< output_end`.
typedef struct sn_group_slice {
    const float *input;
    ptrdiff_t first;
    ptrdiff_t begin;
    ptrdiff_t end;
} sn_group_slice;

static inline sn_group_slice sn_group_slice_of(const sn_pointwise_args *a, ptrdiff_t g) {
    const ptrdiff_t first = g * a->outputs_per_group, past = first + a->outputs_per_group;
    return (sn_group_slice){
        .input = a->input + g * a->inputs_per_group * a->input_plane_stride,
        .first = first,
        .begin = first > a->output_begin ? first : a->output_begin,
        .end = past < a->output_end ? past : a->output_end,
    };
}

/// The panels of a group of `outputs_per_group` channels packed `panel_rows` high (see `sn_pointwise_pack_weights`):
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

/// The packed weights of output channels `o ..< o + rows` of a group slice: the channels from `o` that share o's
/// panel, up to the slice's end. The weight of channel `o + r` for input `i` is `weights[i * width + r]`. A slice
/// may start inside a panel (threads split the outputs at multiples of 4).
typedef struct sn_panel_rows {
    const float *weights;
    ptrdiff_t width;
    int rows;
} sn_panel_rows;

static inline sn_panel_rows sn_panel_rows_at(const sn_pointwise_args *a, const sn_group_slice *group, ptrdiff_t o) {
    const sn_panel_split split = sn_panel_split_of(a->outputs_per_group, a->panel_rows);
    const ptrdiff_t k = a->inputs_per_group, local = o - group->first, wide_rows = split.wide * (split.narrow + 1);
    ptrdiff_t start, width;  // the panel's first channel (in the group) and width
    if (local < wide_rows) {
        width = split.narrow + 1;
        start = local / width * width;
    } else {
        width = split.narrow;
        start = wide_rows + (local - wide_rows) / width * width;
    }
    const ptrdiff_t lane = local - start;
    const ptrdiff_t rows = width - lane < group->end - o ? width - lane : group->end - o;
    return (sn_panel_rows){
        .weights = a->weights + (group->first + start) * k + lane,
        .width = width,
        .rows = (int)rows,
    };
}

/// Pixels per tile of the pointwise loops, which run pixel tiles outermost: a tile of the group's inputs (K planes
/// x tile pixels, about 24 KB) stays in L1 while every row block of the group uses it, instead of the whole input
/// streaming from L2 once per row block. A multiple of `step`, at least `step`.
static inline ptrdiff_t sn_pixel_tile(const sn_pointwise_args *a, ptrdiff_t step) {
    if (a->inputs_per_group <= 0) return a->pixels > step ? a->pixels : step;
    const ptrdiff_t tile = 24 * 1024 / ((ptrdiff_t)sizeof(float) * a->inputs_per_group) / step * step;
    return tile > step ? tile : step;
}

/// Declares `a`, a local copy of the entry point's argument struct `args`, for the kernel to read instead: vector
/// stores may alias anything, so every field read through the caller's pointer would be reloaded after every store
/// (measured with AVX-512: 8% of the 1x1 convolutions' time, 30% of the pools').
#define SN_LOCAL_ARGS(type) const type sn_local_args = *args, *a = &sn_local_args

/// The body of a variant's pooling entry point: every output row of `a`'s range, `step` outputs at a time, through
/// the variant's `pool_columns(a, y, o, is_max, top, bottom)` with the window's rows (`top`: a row above the middle
/// one, i.e. y > 0; `bottom`: a row below it, 2y + 1 inside the plane) and the kind as constants, so that each
/// combination is compiled as straight-line code (a loop over 2 or 3 rows was compiled into branches that made the
/// pools 3-4 times slower).
#define SN_POOL_ALL_ROWS(step)                                                                \
    do {                                                                                      \
        const ptrdiff_t out_w_ = (a->width - 1) / 2 + 1;                                      \
        for (ptrdiff_t y = a->row_begin; y < a->row_end; y++) {                               \
            const int top = y > 0, bottom = 2 * y + 1 < a->height;                            \
            for (ptrdiff_t o = 0; o < out_w_; o += (step)) {                                  \
                const int is_max = a->kind == SN_POOL_MAX;                                    \
                if (top && bottom) {                                                          \
                    if (is_max) pool_columns(a, y, o, 1, 1, 1); else pool_columns(a, y, o, 0, 1, 1); \
                } else if (bottom) {                                                          \
                    if (is_max) pool_columns(a, y, o, 1, 0, 1); else pool_columns(a, y, o, 0, 0, 1); \
                } else if (top) {                                                             \
                    if (is_max) pool_columns(a, y, o, 1, 1, 0); else pool_columns(a, y, o, 0, 1, 0); \
                } else {                                                                      \
                    if (is_max) pool_columns(a, y, o, 1, 0, 0); else pool_columns(a, y, o, 0, 0, 0); \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    } while (0)

#endif
