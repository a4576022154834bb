// Per-operator configuration tables, best first, and the selection from CPU feature bits (XNNPACK's
// `xnn_init_*_config`). Each operator is chosen on its own: a table entry names the features its micro-kernel
// needs, so an int8 table can later rank AVX-512 VNNI, AVX-VNNI and AVX2 without any order between them, and an
// arm64 table NEON, dotprod and i8mm.
#include "kernels_internal.h"

#include <stdatomic.h>

#define SN_AVX2 SN_CPU_X86_AVX2_FMA
#define SN_AVX512 (SN_CPU_X86_AVX2_FMA | SN_CPU_X86_AVX512F)

static const sn_f32_pointwise_config pointwise_configs[] = {
#if SN_KERNELS_X86
    {"sn_f32_pointwise_ukernel_8x48__avx512f", SN_AVX512, sn_f32_pointwise_ukernel_8x48__avx512f,
     .mr = 8, .nr = 48, .lanes = 16, .tail_max = 4, .layout = SN_LAYOUT_F32_POINTWISE_PANELS_8},
    {"sn_f32_pointwise_ukernel_6x16__avx2_fma", SN_AVX2, sn_f32_pointwise_ukernel_6x16__avx2_fma,
     .mr = 6, .nr = 16, .lanes = 8, .tail_max = 0, .layout = SN_LAYOUT_F32_POINTWISE_PANELS_6},
#endif
    {"sn_f32_pointwise_ukernel_4x16__generic", 0, sn_f32_pointwise_ukernel_4x16__generic,
     .mr = 4, .nr = 16, .lanes = 4, .tail_max = 0, .layout = SN_LAYOUT_F32_POINTWISE_PANELS_4},
};

static const sn_f32_depthwise_config depthwise_configs[] = {
#if SN_KERNELS_X86
    // In place with masked loads: no padded copy (measured faster than the padded-plane kernel on every plane).
    {"sn_f32_dwconv3x3_ukernel_chw16__avx512f", SN_AVX512, NULL, sn_f32_dwconv3x3_ukernel_chw16__avx512f},
    {"sn_f32_dwconv3x3_ukernel_plane8__avx2_fma", SN_AVX2, sn_f32_dwconv3x3_ukernel_plane8__avx2_fma, NULL},
#endif
    {"sn_f32_dwconv3x3_ukernel_plane4__generic", 0, sn_f32_dwconv3x3_ukernel_plane4__generic, NULL},
};

static const sn_f32_dense_config dense_configs[] = {
#if SN_KERNELS_X86
    {"sn_f32_dense_ukernel_4x16__avx512f", SN_AVX512, sn_f32_dense_ukernel_4x16__avx512f, .mr = 4},
    {"sn_f32_dense_ukernel_4x8__avx2_fma", SN_AVX2, sn_f32_dense_ukernel_4x8__avx2_fma, .mr = 4},
#endif
    {"sn_f32_dense_ukernel_4x4__generic", 0, sn_f32_dense_ukernel_4x4__generic, .mr = 4},
};

static const sn_f16_dense_config dense_f16_configs[] = {
#if SN_KERNELS_X86
    {"sn_f16_dense_ukernel_4x16__avx512f", SN_AVX512, sn_f16_dense_ukernel_4x16__avx512f, .mr = 4},
    {"sn_f16_dense_ukernel_4x8__avx2_fma", SN_AVX2, sn_f16_dense_ukernel_4x8__avx2_fma, .mr = 4},
#endif
    {"sn_f16_dense_ukernel_4x4__generic", 0, sn_f16_dense_ukernel_4x4__generic, .mr = 4},
};

static const sn_f32_conv3x3s2_config conv3x3s2_configs[] = {
#if SN_KERNELS_X86
    {"sn_f32_conv3x3s2_ukernel_2x16__avx512f", SN_AVX512, sn_f32_conv3x3s2_ukernel_2x16__avx512f, .mr_rows = 2,
     .layout = SN_LAYOUT_F32_CONV3X3S2_CKKO},
    {"sn_f32_conv3x3s2_ukernel_1x8__avx2_fma", SN_AVX2, sn_f32_conv3x3s2_ukernel_1x8__avx2_fma, .mr_rows = 1,
     .layout = SN_LAYOUT_F32_CONV3X3S2_CKKO},
#endif
    {"sn_f32_conv3x3s2_ukernel_1x4__generic", 0, sn_f32_conv3x3s2_ukernel_1x4__generic, .mr_rows = 1,
     .layout = SN_LAYOUT_F32_CONV3X3S2_CKKO},
};

static const sn_f32_pool_config pool_configs[] = {
#if SN_KERNELS_X86
    {"sn_f32_pool3x3s2_ukernel_16__avx512f", SN_AVX512, sn_f32_pool3x3s2_ukernel_16__avx512f, .nr = 16},
    {"sn_f32_pool3x3s2_ukernel_8__avx2_fma", SN_AVX2, sn_f32_pool3x3s2_ukernel_8__avx2_fma, .nr = 8},
#endif
    {"sn_f32_pool3x3s2_ukernel_4__generic", 0, sn_f32_pool3x3s2_ukernel_4__generic, .nr = 4},
};

// int8 pointwise: AVX-512 VNNI and AVX-VNNI are different bits, neither implies the other; a CPU with both (Sapphire
// Rapids) takes the 512-bit one first. AVX2 without VNNI widens to 16 bits (vpmaddwd).
#define SN_AVX512VNNI (SN_AVX512 | SN_CPU_X86_AVX512VNNI)
#define SN_AVXVNNI (SN_AVX2 | SN_CPU_X86_AVXVNNI)

static const sn_qu8_pointwise_config qu8_pointwise_configs[] = {
#if SN_KERNELS_X86
    {"sn_qu8_pointwise_ukernel_8x48__avx512vnni", SN_AVX512VNNI, sn_qu8_pointwise_ukernel_8x48__avx512vnni,
     .mr = 8, .nr = 48, .lanes = 16, .tail_max = 4, .layout = SN_LAYOUT_QU8_POINTWISE_QUADS_8},
#if SN_HAVE_AVXVNNI
    {"sn_qu8_pointwise_ukernel_4x24__avxvnni", SN_AVXVNNI, sn_qu8_pointwise_ukernel_4x24__avxvnni,
     .mr = 4, .nr = 24, .lanes = 8, .layout = SN_LAYOUT_QU8_POINTWISE_QUADS_4},
#endif
    {"sn_qu8_pointwise_ukernel_4x16__avx2", SN_AVX2, sn_qu8_pointwise_ukernel_4x16__avx2,
     .mr = 4, .nr = 16, .lanes = 8, .layout = SN_LAYOUT_QU8_POINTWISE_PAIRS16_4},
#endif
    {"sn_qu8_pointwise_ukernel_4x8__generic", 0, sn_qu8_pointwise_ukernel_4x8__generic,
     .mr = 4, .nr = 8, .lanes = 4, .layout = SN_LAYOUT_QU8_POINTWISE_QUADS_4},
};

size_t sn_qu8_pointwise_config_count(void) { return sizeof qu8_pointwise_configs / sizeof qu8_pointwise_configs[0]; }

const sn_qu8_pointwise_config *sn_qu8_pointwise_config_at(size_t index) {
    return index < sn_qu8_pointwise_config_count() ? &qu8_pointwise_configs[index] : NULL;
}

/// The first entry of `table` whose required features are all in `features` (the last entry requires none).
#define SN_SELECT(table, features)                                                          \
    ({                                                                                      \
        size_t i_ = 0;                                                                      \
        const size_t n_ = sizeof(table) / sizeof((table)[0]);                               \
        while (i_ + 1 < n_ && ((table)[i_].required & ~(features)) != 0) i_++;              \
        &(table)[i_];                                                                       \
    })

const sn_qu8_pointwise_config *sn_qu8_pointwise_select(sn_cpu_features features) {
    return SN_SELECT(qu8_pointwise_configs, features);
}

// int8 depthwise: one packed layout for every instruction set (the record holds the s8 quads for `vpdpbusd` and
// the int16 pairs for AVX2's `vpmaddwd`).
static const sn_qu8_depthwise_config qu8_depthwise_configs[] = {
#if SN_KERNELS_X86
    {"sn_qu8_dwconv3x3_ukernel_16__avx512vnni", SN_AVX512VNNI, sn_qu8_dwconv3x3_ukernel_16__avx512vnni, .lanes = 16,
     .layout = SN_LAYOUT_QU8_DWCONV3X3_BLOCKS},
    {"sn_qu8_dwconv3x3_ukernel_8__avx2", SN_AVX2, sn_qu8_dwconv3x3_ukernel_8__avx2, .lanes = 8,
     .layout = SN_LAYOUT_QU8_DWCONV3X3_BLOCKS},
#endif
    {"sn_qu8_dwconv3x3_ukernel_4__generic", 0, sn_qu8_dwconv3x3_ukernel_4__generic, .lanes = 4,
     .layout = SN_LAYOUT_QU8_DWCONV3X3_BLOCKS},
};

size_t sn_qu8_depthwise_config_count(void) { return sizeof qu8_depthwise_configs / sizeof qu8_depthwise_configs[0]; }

const sn_qu8_depthwise_config *sn_qu8_depthwise_config_at(size_t index) {
    return index < sn_qu8_depthwise_config_count() ? &qu8_depthwise_configs[index] : NULL;
}

const sn_qu8_depthwise_config *sn_qu8_depthwise_select(sn_cpu_features features) {
    return SN_SELECT(qu8_depthwise_configs, features);
}

sn_f32_kernel_set sn_f32_kernels_select(sn_cpu_features features) {
    return (sn_f32_kernel_set){
        .pointwise = SN_SELECT(pointwise_configs, features),
        .depthwise = SN_SELECT(depthwise_configs, features),
        .dense = SN_SELECT(dense_configs, features),
        .dense_f16 = SN_SELECT(dense_f16_configs, features),
        .conv3x3s2 = SN_SELECT(conv3x3s2_configs, features),
        .pool = SN_SELECT(pool_configs, features),
    };
}

int sn_f32_kernels_for_variant(sn_kernel_variant variant, sn_f32_kernel_set *set) {
    if (set == NULL || !sn_kernels_supported(variant)) return SN_KERNELS_UNSUPPORTED_VARIANT;
    *set = sn_f32_kernels_select(sn_cpu_features_detected() & sn_kernels_cap(variant));
    return SN_KERNELS_OK;
}

static sn_f32_kernel_set default_set;
static _Atomic(int) default_ready = 0;

const sn_f32_kernel_set *sn_f32_kernels_default(void) {
    if (!atomic_load_explicit(&default_ready, memory_order_acquire)) {
        // Racing first calls store the same pointers; the flag is only published after them.
        const sn_f32_kernel_set set = sn_f32_kernels_select(sn_cpu_features_enabled());
        static _Atomic(int) writing = 0;
        if (atomic_exchange_explicit(&writing, 1, memory_order_acq_rel) == 0) {
            default_set = set;
            atomic_store_explicit(&default_ready, 1, memory_order_release);
        } else {
            while (!atomic_load_explicit(&default_ready, memory_order_acquire)) {
            }
        }
    }
    return &default_set;
}
