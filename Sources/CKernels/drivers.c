// One plain-C driver per operator, shared by every instruction set: it checks the arguments (so the micro-kernels
// can assume a valid call), checks that the packed weights are in the configuration's layout and fit the shape,
// then runs the operator's loops (groups, pixel tiles, panels, rows) around the configuration's fixed-tile
// micro-kernel. What differs between instruction sets is only inside the micro-kernels.
#include "kernels_internal.h"

#include <stdint.h>

// MARK: - Pointwise

static int pointwise_args_valid(const sn_pointwise_args *a) {
    if (a == NULL || a->input == NULL || a->output == NULL) return 0;
    if (a->inputs_per_group < 1 || a->outputs_per_group < 1 || a->pixels < 0) return 0;
    if (a->output_begin < 0 || a->output_end < a->output_begin) return 0;
    if (a->epilogue == SN_EPILOGUE_ADD_RESIDUAL_RELU) return a->residual != NULL;
    return a->epilogue == SN_EPILOGUE_LINEAR || a->epilogue == SN_EPILOGUE_RELU;
}

/// Loop order: groups, then pixel tiles, then (in the micro-kernel) panels. A tile of the group's inputs (K planes x
/// tile pixels, about 24 KB) stays in L1 while every panel of the group uses it, instead of the whole input
/// streaming from L2 once per panel. A slice of outputs may start inside a panel (threads split the outputs at
/// multiples of 4).
int sn_f32_pointwise(const sn_f32_pointwise_config *config, const sn_packed_weights *packed, const sn_pointwise_args *args) {
    if (config == NULL || config->ukernel == NULL || !pointwise_args_valid(args)) return SN_KERNELS_INVALID_ARGUMENT;
    if (packed == NULL || packed->layout != config->layout) return SN_KERNELS_LAYOUT_MISMATCH;
    SN_LOCAL_ARGS(sn_pointwise_args);
    if (packed->inputs != a->inputs_per_group || packed->outputs_per_group != a->outputs_per_group
        || a->output_end > packed->outputs) {
        return SN_KERNELS_LAYOUT_MISMATCH;
    }
    const ptrdiff_t lanes = config->lanes, k = a->inputs_per_group;
    // Whole vectors, and the pixels after them that the micro-kernel computes as lanes (none if there are too many).
    ptrdiff_t vectors = a->pixels / lanes, tail = a->pixels % lanes;
    if (tail > config->tail_max) {
        vectors += 1;
        tail = 0;
    }
    ptrdiff_t tile = 24 * 1024 / ((ptrdiff_t)sizeof(float) * k) / config->nr * config->nr;
    if (tile < config->nr) tile = config->nr;
    const ptrdiff_t tile_vectors = tile / lanes;
    const sn_f32_pointwise_params params = {
        .inputs = k,
        .input_plane_stride = a->input_plane_stride,
        .output_plane_stride = a->output_plane_stride,
        .residual_plane_stride = a->residual_plane_stride,
        .epilogue = a->epilogue,
    };
    const int residual = a->epilogue == SN_EPILOGUE_ADD_RESIDUAL_RELU;
    const sn_panel_split split = sn_panel_split_of(a->outputs_per_group, config->mr);
    const ptrdiff_t first_group = a->output_begin / a->outputs_per_group;
    const ptrdiff_t last_group = (a->output_end + a->outputs_per_group - 1) / a->outputs_per_group;
    for (ptrdiff_t g = first_group; g < last_group; g++) {
        const ptrdiff_t first = g * a->outputs_per_group, past = first + a->outputs_per_group;
        const ptrdiff_t begin = first > a->output_begin ? first : a->output_begin;
        const ptrdiff_t end = past < a->output_end ? past : a->output_end;
        const float *x = a->input + g * k * a->input_plane_stride;
        // The last tile also takes the tail (alone when there are no whole vectors).
        for (ptrdiff_t v = 0; v < vectors || (v == 0 && tail > 0); v += tile_vectors) {
            const ptrdiff_t vend = v + tile_vectors < vectors ? v + tile_vectors : vectors;
            const ptrdiff_t p = v * lanes;
            const sn_f32_pointwise_tile t = {
                .input = x + p,
                .weights = packed->weights + first * k,
                .bias = packed->bias + first,
                .output = a->output + first * a->output_plane_stride + p,
                .residual = residual ? a->residual + first * a->residual_plane_stride + p : NULL,
                .begin = (size_t)(begin - first),
                .end = (size_t)(end - first),
                .panel_narrow = (size_t)split.narrow,
                .panel_wide = (size_t)split.wide,
                .vectors = (size_t)(vend - v),
                .tail = (size_t)(vend == vectors ? tail : 0),
            };
            config->ukernel(&t, &params);
        }
    }
    return SN_KERNELS_OK;
}

// MARK: - Depthwise

static int depthwise_args_valid(const sn_depthwise_args *a) {
    return a != NULL && a->input != NULL && a->output != NULL && a->destinations != NULL && a->weights != NULL
        && a->bias != NULL && (a->stride == 1 || a->stride == 2) && a->height >= 1 && a->width >= 1
        && a->channel_begin >= 0 && a->channel_end >= a->channel_begin;
}

/// In-place configurations get the channel range; the others get one channel at a time, copied into the
/// zero-bordered scratch plane.
int sn_f32_depthwise3x3(const sn_f32_depthwise_config *config, const sn_depthwise_args *args) {
    if (config == NULL || !depthwise_args_valid(args)) return SN_KERNELS_INVALID_ARGUMENT;
    if (config->chw_ukernel != NULL) {
        config->chw_ukernel(args);
        return SN_KERNELS_OK;
    }
    if (config->plane_ukernel == NULL || args->scratch == NULL) return SN_KERNELS_INVALID_ARGUMENT;
    SN_LOCAL_ARGS(sn_depthwise_args);
    sn_f32_dwconv_plane p = {
        .padded = a->scratch,
        .padded_row = sn_padded_row(a->width),
        .output_height = (a->height - 1) / a->stride + 1,
        .output_width = (a->width - 1) / a->stride + 1,
        .stride = a->stride,
    };
    for (ptrdiff_t c = a->channel_begin; c < a->channel_end; c++) {
        sn_copy_with_zero_border(a->input + c * a->input_plane_stride, a->height, a->width, a->scratch);
        p.taps = a->weights + 9 * c;
        p.bias = a->bias[c];
        p.output = a->output + a->destinations[c] * a->output_plane_stride;
        config->plane_ukernel(&p);
    }
    return SN_KERNELS_OK;
}

// MARK: - Dense

/// The tile loop both dense drivers share: `mr` rows at a time from the weights in `weights_field`.
#define SN_DENSE_DRIVER(config, args, weights_field)                                                  \
    do {                                                                                                          \
        if ((config) == NULL || (config)->ukernel == NULL || (args) == NULL || (args)->input == NULL              \
            || (args)->output == NULL || (args)->weights_field == NULL || (args)->inputs < 0                      \
            || (args)->output_begin < 0 || (args)->output_end < (args)->output_begin) {                           \
            return SN_KERNELS_INVALID_ARGUMENT;                                                                   \
        }                                                                                                         \
        SN_LOCAL_ARGS(sn_dense_args);                                                                             \
        const ptrdiff_t n = a->inputs, mr = (config)->mr;                                                         \
        for (ptrdiff_t o = a->output_begin; o < a->output_end; o += mr) {                                         \
            const ptrdiff_t rows = a->output_end - o < mr ? a->output_end - o : mr;                               \
            (config)->ukernel((size_t)rows, (size_t)n, a->input, a->weights_field + o * n,                        \
                              a->bias ? a->bias + o : NULL, a->output + o);                                       \
        }                                                                                                         \
        return SN_KERNELS_OK;                                                                                     \
    } while (0)

int sn_f32_dense(const sn_f32_dense_config *config, const sn_dense_args *args) {
    SN_DENSE_DRIVER(config, args, weights);
}

int sn_f16_dense(const sn_f16_dense_config *config, const sn_dense_args *args) {
    SN_DENSE_DRIVER(config, args, half_weights);
}

// MARK: - Stem

int sn_f32_conv3x3s2(const sn_f32_conv3x3s2_config *config, const sn_packed_weights *packed, const sn_conv3x3s2_args *args) {
    const sn_conv3x3s2_args *a = args;
    if (config == NULL || config->ukernel == NULL || a == NULL || a->input == NULL || a->output == NULL
        || a->input_channels < 1 || a->height < 1 || a->width < 1 || a->outputs < 0 || a->row_begin < 0
        || a->row_end < a->row_begin || a->row_end > (a->height - 1) / 2 + 1) {
        return SN_KERNELS_INVALID_ARGUMENT;
    }
    if (packed == NULL || packed->layout != config->layout) return SN_KERNELS_LAYOUT_MISMATCH;
    if (packed->inputs != a->input_channels || packed->outputs != a->outputs) return SN_KERNELS_LAYOUT_MISMATCH;
    for (ptrdiff_t y = a->row_begin; y < a->row_end;) {
        int first, last, next_first, next_last;
        sn_window_rows(y, a->height, &first, &last);
        sn_window_rows(y + 1, a->height, &next_first, &next_last);
        // Two rows at a time (where the micro-kernel takes them) when both windows lie wholly inside the plane: all
        // rows but the top and, for an even height, the bottom one.
        if (config->mr_rows >= 2 && y + 1 < a->row_end && first == 0 && last == 2 && next_first == 0 && next_last == 2) {
            config->ukernel(a, packed->weights, packed->bias, y, 2, 0, 2);
            y += 2;
        } else {
            config->ukernel(a, packed->weights, packed->bias, y, 1, first, last);
            y += 1;
        }
    }
    return SN_KERNELS_OK;
}

// MARK: - Pooling

int sn_f32_pool3x3s2(const sn_f32_pool_config *config, const sn_pool3x3s2_args *args) {
    const sn_pool3x3s2_args *a = args;
    if (config == NULL || config->ukernel == NULL || config->nr < 1 || a == NULL || a->input == NULL || a->output == NULL
        || a->height < 1 || a->width < 1 || a->channel_begin < 0 || a->channel_end < a->channel_begin
        || a->row_begin < 0 || a->row_end < a->row_begin || a->row_end > (a->height - 1) / 2 + 1
        || (a->kind != SN_POOL_MAX && a->kind != SN_POOL_AVERAGE)) {
        return SN_KERNELS_INVALID_ARGUMENT;
    }
    for (ptrdiff_t y = a->row_begin; y < a->row_end; y++) {
        const int rows = (y > 0 ? SN_POOL_ROW_ABOVE : 0) | (2 * y + 1 < a->height ? SN_POOL_ROW_BELOW : 0);
        config->ukernel(a, y, rows);
    }
    return SN_KERNELS_OK;
}

// MARK: - int8 pointwise

ptrdiff_t sn_qu8_block_bytes(ptrdiff_t pixels) { return pixels < 0 ? 0 : (pixels + 15) / 16 * 64; }

/// Loop order as the fp32 driver: groups, pixel tiles whose input blocks (quads x 4 x tile pixels, about 24 KB)
/// stay in L1 while every panel of the group runs over them, then (in the micro-kernel) panels.
int sn_qu8_pointwise(const sn_qu8_pointwise_config *config, const sn_packed_weights *packed, const sn_qu8_pointwise_args *args) {
    if (config == NULL || config->ukernel == NULL || config->lanes < 1 || 16 % config->lanes != 0 || config->nr < 1
        || config->tail_max < 0 || config->tail_max > 4 || args == NULL) {
        return SN_KERNELS_INVALID_ARGUMENT;
    }
    SN_LOCAL_ARGS(sn_qu8_pointwise_args);
    const ptrdiff_t k = a->inputs_per_group, m = a->outputs_per_group;
    if (a->input == NULL || a->output == NULL || k < 1 || k > SN_QU8_POINTWISE_MAX_INPUTS || m < 1 || a->pixels < 0
        || a->pixels > PTRDIFF_MAX / 8) {
        return SN_KERNELS_INVALID_ARGUMENT;
    }
    const ptrdiff_t mp = (m + 3) / 4 * 4, quads = (k + 3) / 4, need = sn_qu8_block_bytes(a->pixels);
    if (a->output_begin < 0 || a->output_end < a->output_begin || a->output_begin % 4 != 0 || a->output_end % 4 != 0
        || a->input_block_stride < need || a->output_block_stride < need
        || (a->residual != NULL && a->residual_block_stride < need)) {
        return SN_KERNELS_INVALID_ARGUMENT;
    }
    if (packed == NULL || packed->layout != config->layout || packed->q_weights == NULL) return SN_KERNELS_LAYOUT_MISMATCH;
    const ptrdiff_t groups = packed->outputs_per_group > 0 ? packed->outputs / packed->outputs_per_group : 0;
    if (packed->inputs != k || packed->outputs_per_group != m || a->output_end > groups * mp) return SN_KERNELS_LAYOUT_MISMATCH;
    if (a->pixels == 0 || a->output_begin == a->output_end) return SN_KERNELS_OK;
    const ptrdiff_t lanes = config->lanes;
    // Whole vectors, and the pixels after them that the micro-kernel computes with rows in lanes (none if more).
    ptrdiff_t vectors = a->pixels / lanes, tail = a->pixels % lanes;
    if (tail > config->tail_max) {
        vectors += 1;
        tail = 0;
    }
    ptrdiff_t tile = 24 * 1024 / (4 * quads) / config->nr * config->nr;
    if (tile < config->nr) tile = config->nr;
    const ptrdiff_t tile_vectors = tile / lanes;
    const sn_qu8_pointwise_params params = {
        .quads = quads,
        .rows = mp,
        .input_block_stride = a->input_block_stride,
        .output_block_stride = a->output_block_stride,
        .residual_block_stride = a->residual_block_stride,
        .residual_zero_point = a->residual_zero_point,
        .residual_scale = a->residual_scale,
        .relu = a->relu != 0,
        .zero_points_zero = packed->q_zero_out_all_zero && (a->residual == NULL || a->residual_zero_point == 0),
    };
    const ptrdiff_t qb = config->layout == SN_LAYOUT_QU8_POINTWISE_PAIRS16_4 ? 8 : 4;
    for (ptrdiff_t g = a->output_begin / mp; g * mp < a->output_end; g++) {
        const ptrdiff_t first = g * mp;
        const ptrdiff_t begin = first > a->output_begin ? first : a->output_begin;
        const ptrdiff_t end = first + mp < a->output_end ? first + mp : a->output_end;
        const uint8_t *x = a->input + g * quads * a->input_block_stride;
        // The last tile also takes the tail (alone when there are no whole vectors).
        for (ptrdiff_t v = 0; v < vectors || (v == 0 && tail > 0); v += tile_vectors) {
            const ptrdiff_t vend = v + tile_vectors < vectors ? v + tile_vectors : vectors;
            const ptrdiff_t byte = v * lanes * 4;
            const sn_qu8_pointwise_tile t = {
                .input = x + byte,
                .weights = packed->q_weights + first * quads * qb,
                .terms = packed->q_terms + first,
                .multipliers = packed->q_multipliers + first,
                .bias = packed->q_bias + first,
                .inv_out = packed->q_inv_out + first,
                .zero_out = packed->q_zero_out + first,
                .low = packed->q_low + first,
                .high = packed->q_high + first,
                .output = a->output + first / 4 * a->output_block_stride + byte,
                .residual = a->residual ? a->residual + first / 4 * a->residual_block_stride + byte : NULL,
                .begin = (size_t)(begin - first),
                .end = (size_t)(end - first),
                .vectors = (size_t)(vend - v),
                .tail = (size_t)(vend == vectors ? tail : 0),
            };
            config->ukernel(&t, &params);
        }
    }
    return SN_KERNELS_OK;
}
