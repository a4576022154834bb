// The small int8 operators around the convolutions (shufflenet_kernels.h, "int8 pooling, quantize, dense"): their
// configuration tables (best first, selected from CPU feature bits under the caller's cap), the checked drivers,
// and the dense layer's packing. The micro-kernels are in ukernels_qu8_small_<isa>.c.
#include "qu8_small_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/// The largest plane side, pixel count and dense reduction the drivers accept: every byte count and int32 sum
/// stays far inside its type (255 * 2^22 < 2^31; 255 * 127 * 2 * 32768 < 2^31).
enum { SN_QSMALL_MAX_SIDE = 1 << 14, SN_QSMALL_MAX_PIXELS = 1 << 22, SN_QU8_DENSE_MAX_INPUTS = 32768 };

// MARK: - Configurations

// The AVX-512 micro-kernels use BW and VL too; they require AVX-512 VNNI, which every CPU that has it pairs with
// BW and VL (there is no feature bit for those alone; the int8 pointwise kernels do the same).
#define SN_SMALL_AVX2 SN_CPU_X86_AVX2_FMA
#define SN_SMALL_AVX512VNNI (SN_CPU_X86_AVX2_FMA | SN_CPU_X86_AVX512F | SN_CPU_X86_AVX512VNNI)

static const sn_qu8_quantize_config quantize_configs[] = {
#if SN_KERNELS_X86
    {"sn_qu8_quantize_ukernel_16__avx512bw", SN_SMALL_AVX512VNNI, sn_qu8_quantize_ukernel_16__avx512bw},
    {"sn_qu8_quantize_ukernel_8__avx2", SN_SMALL_AVX2, sn_qu8_quantize_ukernel_8__avx2},
#endif
    {"sn_qu8_quantize_ukernel__generic", 0, sn_qu8_quantize_ukernel__generic},
};

static const sn_qu8_avgpool_config avgpool_configs[] = {
#if SN_KERNELS_X86
    {"sn_qu8_avgpool3x3s2_ukernel_16__avx512bw", SN_SMALL_AVX512VNNI, sn_qu8_avgpool3x3s2_ukernel_16__avx512bw},
    {"sn_qu8_avgpool3x3s2_ukernel_8__avx2", SN_SMALL_AVX2, sn_qu8_avgpool3x3s2_ukernel_8__avx2},
#endif
    {"sn_qu8_avgpool3x3s2_ukernel__generic", 0, sn_qu8_avgpool3x3s2_ukernel__generic},
};

static const sn_qu8_gap_config gap_configs[] = {
#if SN_KERNELS_X86
    {"sn_qu8_gavgpool_ukernel_16__avx512vnni", SN_SMALL_AVX512VNNI, sn_qu8_gavgpool_ukernel_16__avx512vnni},
    {"sn_qu8_gavgpool_ukernel_8__avx2", SN_SMALL_AVX2, sn_qu8_gavgpool_ukernel_8__avx2},
#endif
    {"sn_qu8_gavgpool_ukernel__generic", 0, sn_qu8_gavgpool_ukernel__generic},
};

static const sn_qu8_copy_config copy_configs[] = {
#if SN_KERNELS_X86
    {"sn_qu8_copy_channels_ukernel__avx512bw", SN_SMALL_AVX512VNNI, sn_qu8_copy_channels_ukernel__avx512bw},
    {"sn_qu8_copy_channels_ukernel__avx2", SN_SMALL_AVX2, sn_qu8_copy_channels_ukernel__avx2},
#endif
    {"sn_qu8_copy_channels_ukernel__generic", 0, sn_qu8_copy_channels_ukernel__generic},
};

static const sn_qu8_dense_config dense_configs[] = {
#if SN_KERNELS_X86
    {"sn_qu8_dense_ukernel_128__avx512vnni", SN_SMALL_AVX512VNNI, sn_qu8_dense_ukernel_128__avx512vnni, .mr = 128,
     .layout = SN_LAYOUT_QU8_DENSE_QUADS_16},
    {"sn_qu8_dense_ukernel_64__avx2", SN_SMALL_AVX2, sn_qu8_dense_ukernel_64__avx2, .mr = 64,
     .layout = SN_LAYOUT_QU8_DENSE_QUADS_16},
#endif
    {"sn_qu8_dense_ukernel_16__generic", 0, sn_qu8_dense_ukernel_16__generic, .mr = 16,
     .layout = SN_LAYOUT_QU8_DENSE_QUADS_16},
};

/// The first entry of `table` whose required features are all in `features` (the last entry requires none).
#define SN_SMALL_SELECT(table, features)                                             \
    ({                                                                               \
        size_t i_ = 0;                                                               \
        const size_t n_ = sizeof(table) / sizeof((table)[0]);                        \
        while (i_ + 1 < n_ && ((table)[i_].required & ~(features)) != 0) i_++;       \
        &(table)[i_];                                                                \
    })

/// The features the cap `variant` lets this CPU use, or -1 (as an all-ones mask check) when it cannot run it.
static int features_for(sn_kernel_variant variant, sn_cpu_features *features) {
    if (!sn_kernels_supported(variant)) return 0;
    *features = sn_cpu_features_detected() & sn_kernels_cap(variant);
    return 1;
}

size_t sn_qu8_dense_config_count(void) { return sizeof dense_configs / sizeof dense_configs[0]; }

const sn_qu8_dense_config *sn_qu8_dense_config_at(size_t index) {
    return index < sn_qu8_dense_config_count() ? &dense_configs[index] : NULL;
}

const sn_qu8_dense_config *sn_qu8_dense_select(sn_cpu_features features) { return SN_SMALL_SELECT(dense_configs, features); }

const char *sn_qu8_small_op_kernel_name(int op, sn_kernel_variant variant) {
    sn_cpu_features f;
    if (!features_for(variant, &f)) return NULL;
    switch (op) {
    case 0: return SN_SMALL_SELECT(quantize_configs, f)->name;
    case 1: return SN_SMALL_SELECT(avgpool_configs, f)->name;
    case 2: return SN_SMALL_SELECT(gap_configs, f)->name;
    case 3: return SN_SMALL_SELECT(copy_configs, f)->name;
    default: return NULL;
    }
}

// MARK: - Drivers

int sn_qu8_quantize_planes(const float *input, ptrdiff_t plane_stride, ptrdiff_t channels, ptrdiff_t pixel_begin,
                           ptrdiff_t pixel_end, float inv_scale, uint8_t zero_point, uint8_t *output,
                           ptrdiff_t block_stride, sn_kernel_variant variant) {
    sn_cpu_features f;
    if (!features_for(variant, &f)) return SN_KERNELS_UNSUPPORTED_VARIANT;
    if (input == NULL || output == NULL || channels < 1 || pixel_begin < 0 || pixel_end < pixel_begin
        || pixel_end > SN_QSMALL_MAX_PIXELS || plane_stride < pixel_end || block_stride < sn_qu8_block_bytes(pixel_end)
        || !(inv_scale > 0.0f) || isinf(inv_scale)) {
        return SN_KERNELS_INVALID_ARGUMENT;
    }
    if (pixel_end == pixel_begin) return SN_KERNELS_OK;
    const sn_qu8_quantize_config *config = SN_SMALL_SELECT(quantize_configs, f);
    const sn_qu8_requant q = sn_qu8_requant_of(inv_scale, zero_point);
    const ptrdiff_t blocks = (channels + 3) / 4, n = pixel_end - pixel_begin;
    for (ptrdiff_t b = 0; b < blocks; b++) {
        const ptrdiff_t real = channels - 4 * b < 4 ? channels - 4 * b : 4;
        config->ukernel(input + 4 * b * plane_stride + pixel_begin, plane_stride, (size_t)real, (size_t)n,
                        output + b * block_stride + 4 * pixel_begin, &q);
    }
    return SN_KERNELS_OK;
}

int sn_qu8_avgpool3x3s2(const uint8_t *input, ptrdiff_t input_block_stride, ptrdiff_t height, ptrdiff_t width,
                        uint8_t *output, ptrdiff_t output_block_stride, ptrdiff_t block_begin, ptrdiff_t block_end,
                        uint8_t input_zero_point, float step, float inv_out, uint8_t output_zero_point,
                        sn_kernel_variant variant) {
    sn_cpu_features f;
    if (!features_for(variant, &f)) return SN_KERNELS_UNSUPPORTED_VARIANT;
    if (input == NULL || output == NULL || height < 1 || width < 1 || height > SN_QSMALL_MAX_SIDE
        || width > SN_QSMALL_MAX_SIDE || block_begin < 0 || block_end < block_begin) {
        return SN_KERNELS_INVALID_ARGUMENT;
    }
    const ptrdiff_t oh = (height - 1) / 2 + 1, ow = (width - 1) / 2 + 1;
    if (input_block_stride < sn_qu8_block_bytes(height * width) || output_block_stride < sn_qu8_block_bytes(oh * ow)
        || !isfinite(step) || !(inv_out > 0.0f) || isinf(inv_out)) {
        return SN_KERNELS_INVALID_ARGUMENT;
    }
    if (block_end == block_begin) return SN_KERNELS_OK;
    const sn_qu8_avgpool_config *config = SN_SMALL_SELECT(avgpool_configs, f);
    const sn_qu8_avgpool_params p = {
        .input_zero_point = input_zero_point,
        .step = step,
        .out = sn_qu8_requant_of(inv_out, output_zero_point),
        // The largest |(float)sum * step * inv_out|, by the same two rounded products (rounding is monotonic).
        .clamp = !(fabsf((float)(9 * 255) * step * inv_out) < 2147483520.0f),
    };
    config->ukernel(input + block_begin * input_block_stride, input_block_stride, output + block_begin * output_block_stride,
                    output_block_stride, (size_t)(block_end - block_begin), height, width, &p);
    return SN_KERNELS_OK;
}

int sn_qu8_global_average_pool(const uint8_t *input, ptrdiff_t block_stride, ptrdiff_t channels, ptrdiff_t pixels,
                               uint8_t zero_point, float scale, float *features, uint8_t *codes,
                               float codes_inv_scale, uint8_t codes_zero_point, sn_kernel_variant variant) {
    sn_cpu_features f;
    if (!features_for(variant, &f)) return SN_KERNELS_UNSUPPORTED_VARIANT;
    if (input == NULL || features == NULL || channels < 1 || pixels < 1 || pixels > SN_QSMALL_MAX_PIXELS
        || block_stride < sn_qu8_block_bytes(pixels) || !isfinite(scale)
        || (codes != NULL && (!(codes_inv_scale > 0.0f) || isinf(codes_inv_scale)))) {
        return SN_KERNELS_INVALID_ARGUMENT;
    }
    const sn_qu8_gap_config *config = SN_SMALL_SELECT(gap_configs, f);
    const sn_qu8_gap_params p = {
        .zero_point = zero_point,
        .scale = scale,
        .pixels = (float)pixels,
        .codes = sn_qu8_requant_of(codes != NULL ? codes_inv_scale : 1.0f, codes_zero_point),
    };
    config->ukernel(input, block_stride, (size_t)channels, (size_t)pixels, &p, features, codes);
    return SN_KERNELS_OK;
}

int sn_qu8_copy_channels(const uint8_t *input, ptrdiff_t input_block_stride, ptrdiff_t groups, ptrdiff_t per_group,
                         uint8_t *output, ptrdiff_t output_block_stride, ptrdiff_t channel_offset, ptrdiff_t pixels) {
    if (input == NULL || output == NULL || groups < 1 || per_group < 1 || groups > (1 << 20) || per_group > (1 << 20)
        || channel_offset < 0 || channel_offset > (1 << 24) || pixels < 0 || pixels > SN_QSMALL_MAX_PIXELS
        || input_block_stride < sn_qu8_block_bytes(pixels) || output_block_stride < sn_qu8_block_bytes(pixels)) {
        return SN_KERNELS_INVALID_ARGUMENT;
    }
    if (pixels == 0) return SN_KERNELS_OK;
    // It takes no cap (a data move, not arithmetic): the enabled features choose.
    const sn_qu8_copy_config *config = SN_SMALL_SELECT(copy_configs, sn_cpu_features_enabled());
    const ptrdiff_t padded = (per_group + 3) / 4 * 4, first = channel_offset, past = channel_offset + groups * per_group;
    for (ptrdiff_t b = first / 4; b < (past + 3) / 4; b++) {
        const uint8_t *sources[4];
        uint32_t shift[4], mask[4], keep = 0;
        for (int j = 0; j < 4; j++) {
            const ptrdiff_t c = 4 * b + j;
            if (c < first || c >= past) {
                sources[j] = input;  // read, then masked off
                shift[j] = 0;
                mask[j] = 0;
                keep |= 0xffu << (8 * j);
                continue;
            }
            const ptrdiff_t r = c - first, slot = r / per_group * padded + r % per_group;
            sources[j] = input + slot / 4 * input_block_stride;
            shift[j] = (uint32_t)(8 * (slot % 4));
            mask[j] = 0xff;
        }
        uint8_t *y = output + b * output_block_stride;
        if (keep == 0) {
            config->ukernel(sources, shift, mask, keep, y, (size_t)pixels);
        } else {
            // The first and last blocks of the range may be shared with another writer (the pooled part of the
            // concat): bytes only, so that the other lanes are not even rewritten.
            for (int j = 0; j < 4; j++) {
                if (mask[j] == 0) continue;
                const uint8_t *x = sources[j] + shift[j] / 8;
                for (ptrdiff_t i = 0; i < pixels; i++) y[4 * i + j] = x[4 * i];
            }
        }
    }
    return SN_KERNELS_OK;
}

// MARK: - Dense

static sn_packed_weights *dense_fail(int *error, int code) {
    if (error) *error = code;
    return NULL;
}

sn_packed_weights *sn_qu8_dense_pack(const sn_qu8_dense_config *config, const int8_t *weights, uint8_t input_zero_point,
                                     const float *multipliers, const float *bias, ptrdiff_t outputs, ptrdiff_t inputs,
                                     int *error) {
    if (config == NULL || config->layout != SN_LAYOUT_QU8_DENSE_QUADS_16 || config->mr < 16 || config->mr % 16 != 0
        || weights == NULL || multipliers == NULL || bias == NULL || outputs < 1 || outputs > (1 << 20) || inputs < 1
        || inputs > SN_QU8_DENSE_MAX_INPUTS) {
        return dense_fail(error, SN_KERNELS_INVALID_ARGUMENT);
    }
    for (ptrdiff_t i = 0; i < outputs * inputs; i++) {
        if (weights[i] == -128) return dense_fail(error, SN_KERNELS_INVALID_ARGUMENT);
    }
    const ptrdiff_t quads = (inputs + 3) / 4, rows = (outputs + 15) / 16 * 16;
    const size_t weight_bytes = (size_t)(rows * quads * 4);  // a multiple of 64
    const size_t total = weight_bytes + (size_t)rows * 3 * 4;
    float *data;
    sn_packed_weights *packed = sn_packed_weights_alloc(config->layout, (total + 3) / 4, &data);
    if (packed == NULL) return dense_fail(error, SN_KERNELS_OUT_OF_MEMORY);
    int8_t *w = (int8_t *)(void *)data;
    memset(w, 0, weight_bytes);
    int32_t *terms = (int32_t *)(void *)((char *)data + weight_bytes);
    float *mult = (float *)(terms + rows), *b = mult + rows;
    for (ptrdiff_t o = 0; o < rows; o++) {
        if (o >= outputs) {
            terms[o] = 0;
            mult[o] = 0.0f;
            b[o] = 0.0f;
            continue;
        }
        int32_t sum = 0;
        int8_t *panel = w + o / 16 * quads * 64 + 4 * (o % 16);
        for (ptrdiff_t k = 0; k < inputs; k++) {
            const int8_t v = weights[o * inputs + k];
            sum += v;
            panel[k / 4 * 64 + k % 4] = v;
        }
        terms[o] = -sum * (int32_t)input_zero_point;
        mult[o] = multipliers[o];
        b[o] = bias[o];
    }
    packed->outputs = outputs;
    packed->inputs = inputs;
    packed->outputs_per_group = outputs;
    packed->q_weights = w;
    packed->q_terms = terms;
    packed->q_multipliers = mult;
    packed->q_bias = b;
    if (error) *error = SN_KERNELS_OK;
    return packed;
}

int sn_qu8_dense(const sn_qu8_dense_config *config, const sn_packed_weights *packed, const uint8_t *input,
                 float *output, ptrdiff_t output_begin, ptrdiff_t output_end) {
    if (config == NULL || config->ukernel == NULL || config->mr < 16 || config->mr % 16 != 0 || input == NULL
        || output == NULL || output_begin < 0 || output_end < output_begin) {
        return SN_KERNELS_INVALID_ARGUMENT;
    }
    if (packed == NULL || packed->layout != config->layout || packed->q_weights == NULL) return SN_KERNELS_LAYOUT_MISMATCH;
    if ((config->required & ~sn_cpu_features_detected()) != 0) return SN_KERNELS_UNSUPPORTED_VARIANT;
    if (output_end > packed->outputs) return SN_KERNELS_INVALID_ARGUMENT;
    if (output_end == output_begin) return SN_KERNELS_OK;
    const ptrdiff_t inputs = packed->inputs, quads = (inputs + 3) / 4, full = inputs / 4;
    uint32_t tail = 0;
    for (ptrdiff_t k = 4 * full; k < inputs; k++) tail |= (uint32_t)input[k] << (8 * (k - 4 * full));
    // Tiles of whole panels from the panel holding output_begin, at most mr rows each.
    const ptrdiff_t mr = config->mr;
    for (ptrdiff_t first = output_begin / 16 * 16; first < output_end; first += mr) {
        const ptrdiff_t past = first + mr < output_end ? first + mr : output_end;
        const sn_qu8_dense_tile t = {
            .input = input,
            .full_quads = (size_t)full,
            .quads = (size_t)quads,
            .tail_quad = tail,
            .weights = packed->q_weights + first / 16 * quads * 64,
            .terms = packed->q_terms + first,
            .multipliers = packed->q_multipliers + first,
            .bias = packed->q_bias + first,
            .output = output + first,
            .panels = (size_t)((past - first + 15) / 16),
            .begin = (size_t)(output_begin > first ? output_begin - first : 0),
            .end = (size_t)(past - first),
        };
        config->ukernel(&t);
    }
    return SN_KERNELS_OK;
}
