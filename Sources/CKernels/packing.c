// Packed weights: one opaque, immutable object per layer, tagged with the layout it was packed in, so that a
// driver can refuse weights packed for another configuration instead of reading them wrongly.
#include "kernels_internal.h"

#include <stdlib.h>
#include <string.h>

/// The header rounded up to the alignment of the floats that follow it (one cache line, the widest vector).
enum { SN_PACKED_ALIGNMENT = 64 };

static size_t header_bytes(void) {
    return (sizeof(sn_packed_weights) + SN_PACKED_ALIGNMENT - 1) / SN_PACKED_ALIGNMENT * SN_PACKED_ALIGNMENT;
}

sn_packed_weights *sn_packed_weights_alloc(sn_weights_layout layout, size_t floats, float **data) {
    const size_t bytes = header_bytes() + (floats * sizeof(float) + SN_PACKED_ALIGNMENT - 1) / SN_PACKED_ALIGNMENT * SN_PACKED_ALIGNMENT;
    sn_packed_weights *packed = aligned_alloc(SN_PACKED_ALIGNMENT, bytes);
    if (packed == NULL) return NULL;
    memset(packed, 0, sizeof *packed);
    packed->layout = layout;
    packed->bytes = bytes;
    *data = (float *)(void *)((char *)packed + header_bytes());
    return packed;
}

sn_weights_layout sn_packed_weights_layout(const sn_packed_weights *packed) {
    return packed ? packed->layout : SN_LAYOUT_NONE;
}

size_t sn_packed_weights_bytes(const sn_packed_weights *packed) { return packed ? packed->bytes : 0; }

void sn_packed_weights_free(sn_packed_weights *packed) { free(packed); }

static sn_packed_weights *fail(int *error, int code) {
    if (error) *error = code;
    return NULL;
}

sn_packed_weights *sn_f32_pointwise_pack(const sn_f32_pointwise_config *config, const float *weights, const float *bias,
                                         ptrdiff_t outputs, ptrdiff_t inputs_per_group, ptrdiff_t outputs_per_group,
                                         int *error) {
    if (config == NULL || weights == NULL || bias == NULL || outputs < 1 || inputs_per_group < 1 || outputs_per_group < 1
        || outputs % outputs_per_group != 0 || config->mr < 1 || config->mr > SN_POINTWISE_MAX_PANEL_ROWS
        || config->layout != (sn_weights_layout)(SN_LAYOUT_F32_POINTWISE_PANELS_1 - 1 + config->mr)) {
        return fail(error, SN_KERNELS_INVALID_ARGUMENT);
    }
    const ptrdiff_t k = inputs_per_group;
    float *data;
    sn_packed_weights *packed = sn_packed_weights_alloc(config->layout, (size_t)(outputs * k + outputs), &data);
    if (packed == NULL) return fail(error, SN_KERNELS_OUT_OF_MEMORY);
    const sn_panel_split split = sn_panel_split_of(outputs_per_group, config->mr);
    for (ptrdiff_t first = 0; first < outputs; first += outputs_per_group) {
        ptrdiff_t o = first;
        for (ptrdiff_t panel = 0; panel < split.count; panel++) {
            const ptrdiff_t width = split.narrow + (panel < split.wide ? 1 : 0);
            float *dst = data + o * k;  // panels are stored in channel order, so the panel from o starts at o * k
            for (ptrdiff_t i = 0; i < k; i++) {
                for (ptrdiff_t r = 0; r < width; r++) dst[i * width + r] = weights[(o + r) * k + i];
            }
            o += width;
        }
    }
    memcpy(data + outputs * k, bias, (size_t)outputs * sizeof(float));
    packed->outputs = outputs;
    packed->inputs = k;
    packed->outputs_per_group = outputs_per_group;
    packed->weights = data;
    packed->bias = data + outputs * k;
    if (error) *error = SN_KERNELS_OK;
    return packed;
}

sn_packed_weights *sn_f32_conv3x3s2_pack(const sn_f32_conv3x3s2_config *config, const float *weights, const float *bias,
                                         ptrdiff_t outputs, ptrdiff_t input_channels, int *error) {
    if (config == NULL || weights == NULL || bias == NULL || outputs < 1 || input_channels < 1
        || config->layout != SN_LAYOUT_F32_CONV3X3S2_CKKO) {
        return fail(error, SN_KERNELS_INVALID_ARGUMENT);
    }
    const ptrdiff_t taps = 9 * input_channels;
    float *data;
    sn_packed_weights *packed = sn_packed_weights_alloc(config->layout, (size_t)(taps * outputs + outputs), &data);
    if (packed == NULL) return fail(error, SN_KERNELS_OUT_OF_MEMORY);
    // For each tap (c, ky, kx), the weights of all outputs side by side: a block of outputs finds its weights at
    // fixed offsets from one pointer.
    for (ptrdiff_t t = 0; t < taps; t++) {
        for (ptrdiff_t o = 0; o < outputs; o++) data[t * outputs + o] = weights[o * taps + t];
    }
    memcpy(data + taps * outputs, bias, (size_t)outputs * sizeof(float));
    packed->outputs = outputs;
    packed->inputs = input_channels;
    packed->weights = data;
    packed->bias = data + taps * outputs;
    if (error) *error = SN_KERNELS_OK;
    return packed;
}
