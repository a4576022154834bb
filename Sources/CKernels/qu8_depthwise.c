// The int8 3x3 depthwise operator with the channel shuffle folded in: packing (one record per output block) and
// the checked driver. The micro-kernels come from templates/qu8_dwconv3x3.h (ukernels_qu8_dw_<isa>.c).
#include "kernels_internal.h"

#include <limits.h>
#include <math.h>
#include <string.h>

_Static_assert(sizeof(sn_qu8_dw_record) % 64 == 0, "records are whole cache lines");

/// Slack after the padded block: the stride-2 loads of the last vector read up to 2 vectors (of at most 16 pixels)
/// past the row end.
enum { SN_QDW_SLACK = 4 * 2 * 16 + 64 };

/// The largest plane side the driver accepts (keeps every byte count far inside ptrdiff_t).
enum { SN_QDW_MAX_SIDE = 1 << 14 };

ptrdiff_t sn_qu8_depthwise3x3_scratch_bytes(ptrdiff_t height, ptrdiff_t width) {
    if (height < 1 || width < 1 || height > SN_QDW_MAX_SIDE || width > SN_QDW_MAX_SIDE) return 0;
    return (height + 2) * (width + 2) * 4 + SN_QDW_SLACK;
}

static sn_packed_weights *fail(int *error, int code) {
    if (error) *error = code;
    return NULL;
}

sn_packed_weights *sn_qu8_depthwise3x3_pack(const sn_qu8_depthwise_config *config, const int8_t *weights,
                                            const uint8_t *input_zero_points, const float *multipliers, const float *bias,
                                            const float *output_scales, const uint8_t *output_zero_points,
                                            const ptrdiff_t *destinations, ptrdiff_t channels, ptrdiff_t input_groups,
                                            ptrdiff_t groups, int *error) {
    if (error) *error = SN_KERNELS_OK;
    if (!config || config->layout != SN_LAYOUT_QU8_DWCONV3X3_BLOCKS || !weights || !input_zero_points || !multipliers ||
        !bias || !output_scales || !output_zero_points || !destinations || channels < 1 || groups < 1 ||
        channels > (1 << 20) || channels % groups != 0 || input_groups < 1 || channels % input_groups != 0)
        return fail(error, SN_KERNELS_INVALID_ARGUMENT);
    const ptrdiff_t n = channels / groups, blocks_per_group = (n + 3) / 4, blocks = groups * blocks_per_group;
    const ptrdiff_t n_in = channels / input_groups, in_blocks_per_group = (n_in + 3) / 4;
    for (ptrdiff_t i = 0; i < channels * 9; i++)
        if (weights[i] == -128) return fail(error, SN_KERNELS_INVALID_ARGUMENT);
    for (ptrdiff_t c = 0; c < channels; c++)
        if (!(output_scales[c] > 0) || !isfinite(output_scales[c]) || !isfinite(multipliers[c]) || !isfinite(bias[c]))
            return fail(error, SN_KERNELS_INVALID_ARGUMENT);
    float *data;
    const size_t floats = (size_t)blocks * sizeof(sn_qu8_dw_record) / sizeof(float);
    sn_packed_weights *packed = sn_packed_weights_alloc(config->layout, floats, &data);
    if (!packed) return fail(error, SN_KERNELS_OUT_OF_MEMORY);
    sn_qu8_dw_record *records = (sn_qu8_dw_record *)(void *)data;
    memset(records, 0, (size_t)blocks * sizeof *records);
    for (ptrdiff_t b = 0; b < blocks; b++)
        for (int j = 0; j < 4; j++) records[b].source[j] = records[b].channel[j] = -1;
    for (ptrdiff_t c = 0; c < channels; c++) {
        const ptrdiff_t d = destinations[c];
        if (d < 0 || d >= channels) {
            sn_packed_weights_free(packed);
            return fail(error, SN_KERNELS_INVALID_ARGUMENT);
        }
        const ptrdiff_t slot = d / n * blocks_per_group * 4 + d % n;
        sn_qu8_dw_record *r = &records[slot / 4];
        const int j = (int)(slot % 4);
        if (r->channel[j] != -1) {  // not a permutation
            sn_packed_weights_free(packed);
            return fail(error, SN_KERNELS_INVALID_ARGUMENT);
        }
        r->channel[j] = (int32_t)c;
        r->source[j] = (int32_t)(c / n_in * in_blocks_per_group * 4 + c % n_in);
        r->pad_code[j] = input_zero_points[c];
        int32_t sum = 0;
        for (int t = 0; t < 9; t++) {
            const int8_t w = weights[c * 9 + t];
            const int ky = t / 3, kx = t % 3;
            sum += w;
            r->w[ky][4 * j + kx] = w;
            int16_t *pair = kx % 2 == 0 ? r->w_even[ky] : r->w_odd[ky];
            pair[2 * j + kx / 2] = w;
        }
        r->term[j] = -sum * (int32_t)input_zero_points[c];
        r->multiplier[j] = multipliers[c];
        r->bias[j] = bias[c];
        r->inv_out[j] = 1.0f / output_scales[c];
        r->zero_out[j] = output_zero_points[c];
        r->low[j] = -(float)output_zero_points[c];
        r->high[j] = 255.0f - (float)output_zero_points[c];
    }
    packed->outputs = channels;
    packed->inputs = groups;
    packed->outputs_per_group = n;
    packed->q_weights = (const int8_t *)(const void *)records;
    return packed;
}

int sn_qu8_depthwise3x3(const sn_qu8_depthwise_config *config, const sn_packed_weights *packed,
                        const sn_qu8_depthwise_args *args) {
    if (!config || !args || !config->ukernel) return SN_KERNELS_INVALID_ARGUMENT;
    if (!packed || packed->layout != config->layout || config->layout != SN_LAYOUT_QU8_DWCONV3X3_BLOCKS)
        return SN_KERNELS_LAYOUT_MISMATCH;
    if ((config->required & ~sn_cpu_features_detected()) != 0) return SN_KERNELS_UNSUPPORTED_VARIANT;
    const ptrdiff_t n = packed->outputs_per_group, groups = packed->inputs;
    const ptrdiff_t blocks = groups * ((n + 3) / 4);
    if (!args->input || !args->output || !args->scratch || (args->stride != 1 && args->stride != 2) ||
        args->height < 1 || args->width < 1 || args->height > SN_QDW_MAX_SIDE || args->width > SN_QDW_MAX_SIDE)
        return SN_KERNELS_INVALID_ARGUMENT;
    const ptrdiff_t out_h = (args->height - 1) / args->stride + 1, out_w = (args->width - 1) / args->stride + 1;
    if (args->input_block_stride < sn_qu8_block_bytes(args->height * args->width) ||
        args->output_block_stride < sn_qu8_block_bytes(out_h * out_w) ||
        args->scratch_bytes < sn_qu8_depthwise3x3_scratch_bytes(args->height, args->width) ||
        args->block_begin < 0 || args->block_end > blocks || args->block_begin > args->block_end)
        return SN_KERNELS_INVALID_ARGUMENT;
    const sn_qu8_dw_record *records = (const sn_qu8_dw_record *)(const void *)packed->q_weights;
    for (ptrdiff_t b = args->block_begin; b < args->block_end; b++) {
        const sn_qu8_dwconv_block block = {
            .input = args->input, .input_block_stride = args->input_block_stride, .record = &records[b],
            .output = args->output + b * args->output_block_stride, .height = args->height, .width = args->width,
            .stride = args->stride, .scratch = args->scratch};
        config->ukernel(&block);
    }
    return SN_KERNELS_OK;
}
