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

// MARK: - int8 pointwise

/// Bytes per padded output row and quad of inputs in `layout` (0 for a layout that is not an int8 pointwise one),
/// and its panels' height.
static int qu8_quad_bytes(sn_weights_layout layout, int *panel_rows) {
    switch (layout) {
    case SN_LAYOUT_QU8_POINTWISE_QUADS_4: *panel_rows = 4; return 4;
    case SN_LAYOUT_QU8_POINTWISE_QUADS_8: *panel_rows = 8; return 4;
    case SN_LAYOUT_QU8_POINTWISE_PAIRS16_4: *panel_rows = 4; return 8;
    default: *panel_rows = 0; return 0;
    }
}

sn_packed_weights *sn_qu8_pointwise_pack(const sn_qu8_pointwise_config *config, const int8_t *weights,
                                         const uint8_t *input_zero_points, const float *multipliers, const float *bias,
                                         const float *output_scales, const uint8_t *output_zero_points,
                                         int per_channel_output, ptrdiff_t outputs, ptrdiff_t inputs_per_group,
                                         ptrdiff_t outputs_per_group, int *error) {
    int panel_rows;
    const int qb = config ? qu8_quad_bytes(config->layout, &panel_rows) : 0;
    if (config == NULL || qb == 0 || panel_rows != config->mr || weights == NULL || input_zero_points == NULL
        || multipliers == NULL || bias == NULL || output_scales == NULL || output_zero_points == NULL || outputs < 1
        || inputs_per_group < 1 || inputs_per_group > SN_QU8_POINTWISE_MAX_INPUTS || outputs_per_group < 1
        || outputs % outputs_per_group != 0) {
        return fail(error, SN_KERNELS_INVALID_ARGUMENT);
    }
    const ptrdiff_t k = inputs_per_group, m = outputs_per_group, groups = outputs / m;
    const ptrdiff_t quads = (k + 3) / 4, mp = (m + 3) / 4 * 4, rows = groups * mp;
    for (ptrdiff_t i = 0; i < outputs * k; i++) {
        if (weights[i] == -128) return fail(error, SN_KERNELS_INVALID_ARGUMENT);
    }
    for (ptrdiff_t o = 0; o < (per_channel_output ? outputs : 1); o++) {
        // inv_out must be finite and positive (the kernels' clamp folding relies on inv_out > 0).
        const float inv = 1.0f / output_scales[o];
        if (!(output_scales[o] > 0.0f) || !(inv > 0.0f) || inv == __builtin_inff()) return fail(error, SN_KERNELS_INVALID_ARGUMENT);
    }
    // Weights (64-byte multiple: rows * quads * qb is a multiple of 16; rounded up anyway), then per padded row the
    // int32 terms, multipliers, biases, inverse output scales and output zero points.
    const size_t weight_bytes = ((size_t)(rows * quads * qb) + 63) / 64 * 64;
    const size_t total = weight_bytes + (size_t)rows * 7 * 4;
    float *data;
    sn_packed_weights *packed = sn_packed_weights_alloc(config->layout, (total + 3) / 4, &data);
    if (packed == NULL) return fail(error, SN_KERNELS_OUT_OF_MEMORY);
    int8_t *w = (int8_t *)(void *)data;
    memset(w, 0, weight_bytes);
    int32_t *terms = (int32_t *)(void *)((char *)data + weight_bytes);
    float *mult = (float *)(terms + rows), *b = mult + rows, *inv = b + rows;
    int32_t *zout = (int32_t *)(inv + rows);
    float *low = (float *)(zout + rows), *high = low + rows;
    for (ptrdiff_t g = 0; g < groups; g++) {
        for (ptrdiff_t r = 0; r < mp; r++) {
            const ptrdiff_t row = g * mp + r, o = g * m + r;  // padded row, real output (if r < m)
            // The panel holding row r: panels of panel_rows from the group's first row (the last may be 4 high).
            const ptrdiff_t r0 = r / panel_rows * panel_rows;
            const ptrdiff_t h = mp - r0 < panel_rows ? mp - r0 : panel_rows, lane = r - r0;
            int8_t *panel = w + (g * mp + r0) * quads * qb;
            if (r >= m) {
                terms[row] = 0;
                mult[row] = 0.0f;
                b[row] = 0.0f;
                inv[row] = 1.0f;
                zout[row] = 0;
                low[row] = 0.0f;
                high[row] = 255.0f;
                continue;
            }
            int32_t term = 0;
            for (ptrdiff_t i = 0; i < k; i++) {
                const int8_t v = weights[o * k + i];
                term -= (int32_t)v * (int32_t)input_zero_points[g * k + i];
                const ptrdiff_t q = i / 4, j = i % 4;
                int8_t *quad = panel + (q * h + lane) * qb;
                if (qb == 4) {
                    quad[j] = v;
                } else {
                    // (w0, w2) then (w1, w3) as int16: vpmaddwd against the even and the odd bytes of a quad.
                    int16_t *pairs = (int16_t *)(void *)quad;
                    pairs[(j % 2) * 2 + j / 2] = v;
                }
            }
            terms[row] = term;
            mult[row] = multipliers[o];
            b[row] = bias[o];
            const ptrdiff_t map = per_channel_output ? o : 0;
            inv[row] = 1.0f / output_scales[map];
            zout[row] = output_zero_points[map];
            low[row] = (float)-zout[row];
            high[row] = (float)(255 - zout[row]);
        }
    }
    packed->outputs = outputs;
    packed->inputs = k;
    packed->outputs_per_group = m;
    packed->q_weights = w;
    packed->q_terms = terms;
    packed->q_multipliers = mult;
    packed->q_bias = b;
    packed->q_inv_out = inv;
    packed->q_zero_out = zout;
    packed->q_low = low;
    packed->q_high = high;
    packed->q_zero_out_all_zero = 1;
    for (ptrdiff_t row = 0; row < rows; row++) {
        if (zout[row] != 0) packed->q_zero_out_all_zero = 0;
    }
    if (error) *error = SN_KERNELS_OK;
    return packed;
}
