// The packed weight layout every pointwise variant reads (documented with sn_pointwise_pack_weights).
#include "kernels_internal.h"

int sn_pointwise_pack_weights(const float *weights, ptrdiff_t outputs, ptrdiff_t inputs_per_group,
                              ptrdiff_t outputs_per_group, ptrdiff_t panel_rows, float *packed) {
    if (weights == NULL || packed == NULL || outputs < 0 || inputs_per_group < 0 || outputs_per_group < 1
        || outputs % outputs_per_group != 0 || panel_rows < 1 || panel_rows > SN_POINTWISE_MAX_PANEL_ROWS) {
        return SN_KERNELS_INVALID_ARGUMENT;
    }
    const ptrdiff_t k = inputs_per_group;
    const sn_panel_split split = sn_panel_split_of(outputs_per_group, panel_rows);
    for (ptrdiff_t first = 0; first < outputs; first += outputs_per_group) {
        ptrdiff_t o = first;
        for (ptrdiff_t panel = 0; panel < split.count; panel++) {
            const ptrdiff_t width = split.narrow + (panel < split.wide ? 1 : 0);
            float *dst = packed + o * k;  // panels are stored in channel order, so the panel from o starts at o * k
            for (ptrdiff_t i = 0; i < k; i++) {
                for (ptrdiff_t r = 0; r < width; r++) dst[i * width + r] = weights[(o + r) * k + i];
            }
            o += width;
        }
    }
    return SN_KERNELS_OK;
}

ptrdiff_t sn_pointwise_panel_rows(sn_kernel_variant variant) {
    switch (variant) {
    case SN_KERNELS_AVX512: return 8;
    case SN_KERNELS_AVX2: return 6;
    case SN_KERNELS_GENERIC: return 4;
    default: return 0;
    }
}
