// Picks the kernel variant once per process and routes every entry point to it, checking the arguments first so
// that the variants themselves can assume a valid call.
#include "kernels_internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const char *const variant_names[SN_KERNEL_VARIANT_COUNT] = {"generic", "avx2", "avx512"};

const char *sn_kernels_name(sn_kernel_variant variant) {
    return (unsigned)variant < SN_KERNEL_VARIANT_COUNT ? variant_names[variant] : NULL;
}

/// Asks the CPU; `sn_kernels_supported` answers from the cached result.
static int cpu_can_run(sn_kernel_variant variant) {
    switch (variant) {
    case SN_KERNELS_GENERIC:
        return 1;
#if SN_KERNELS_X86
    // __builtin_cpu_supports also checks (via XGETBV) that the OS saves the YMM / ZMM registers.
    case SN_KERNELS_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case SN_KERNELS_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    default:
        return 0;
    }
}

/// SHUFFLENET_KERNELS as a variant, -1 when unset or empty, -2 when not a variant name.
static int parse_request(void) {
    const char *value = getenv("SHUFFLENET_KERNELS");
    if (value == NULL || value[0] == '\0') return -1;
    for (int v = 0; v < SN_KERNEL_VARIANT_COUNT; v++) {
        if (strcmp(value, variant_names[v]) == 0) return v;
    }
    return -2;
}

/// Everything resolved, packed in one int so that a single atomic publishes it: bits 0-3 the active variant, bits
/// 4-7 `requested + 2`, bits 8-10 one bit per supported variant. -1 means "not resolved yet". Two threads racing
/// on the first call compute the same value, so either store wins.
static atomic_int resolution = -1;

static int resolve(void) {
    int packed = atomic_load_explicit(&resolution, memory_order_acquire);
    if (packed >= 0) return packed;
    int supported = 0;
    for (int v = 0; v < SN_KERNEL_VARIANT_COUNT; v++) {
        if (cpu_can_run((sn_kernel_variant)v)) supported |= 1 << v;
    }
    int requested = parse_request();
    int active = SN_KERNELS_GENERIC;
    if (requested >= 0 && (supported >> requested & 1)) {
        active = requested;
    } else {
        for (int v = SN_KERNEL_VARIANT_COUNT - 1; v > SN_KERNELS_GENERIC; v--) {
            if (supported >> v & 1) { active = v; break; }
        }
    }
    packed = supported << 8 | (requested + 2) << 4 | active;
    atomic_store_explicit(&resolution, packed, memory_order_release);
    return packed;
}

int sn_kernels_supported(sn_kernel_variant variant) {
    return (unsigned)variant < SN_KERNEL_VARIANT_COUNT && (resolve() >> 8 >> variant & 1);
}

sn_kernel_variant sn_kernels_active(void) { return (sn_kernel_variant)(resolve() & 15); }

int sn_kernels_requested(void) { return (resolve() >> 4 & 15) - 2; }

static int pointwise_args_valid(const sn_pointwise_args *a) {
    if (a == NULL || a->input == NULL || a->output == NULL || a->weights == NULL || a->bias == NULL) return 0;
    if (a->inputs_per_group < 0 || a->outputs_per_group < 1 || a->pixels < 0) return 0;
    if (a->panel_rows < 1 || a->panel_rows > SN_POINTWISE_MAX_PANEL_ROWS) return 0;
    if (a->output_begin < 0 || a->output_end < a->output_begin) return 0;
    if (a->epilogue == SN_EPILOGUE_ADD_RESIDUAL_RELU) return a->residual != NULL;
    return a->epilogue == SN_EPILOGUE_LINEAR || a->epilogue == SN_EPILOGUE_RELU;
}

static int depthwise_args_valid(const sn_depthwise_args *a) {
    return a != NULL && a->input != NULL && a->output != NULL && a->destinations != NULL && a->weights != NULL
        && a->bias != NULL && a->scratch != NULL && (a->stride == 1 || a->stride == 2) && a->height >= 1 && a->width >= 1
        && a->channel_begin >= 0 && a->channel_end >= a->channel_begin;
}

static int dense_args_valid(const sn_dense_args *a) {
    return a != NULL && a->input != NULL && a->output != NULL && a->weights != NULL && a->inputs >= 0
        && a->output_begin >= 0 && a->output_end >= a->output_begin;
}

static int conv3x3s2_args_valid(const sn_conv3x3s2_args *a) {
    return a != NULL && a->input != NULL && a->output != NULL && a->weights != NULL && a->bias != NULL
        && a->input_channels >= 1 && a->height >= 1 && a->width >= 1 && a->outputs >= 0 && a->row_begin >= 0
        && a->row_end >= a->row_begin && a->row_end <= (a->height - 1) / 2 + 1;
}

static int pool3x3s2_args_valid(const sn_pool3x3s2_args *a) {
    return a != NULL && a->input != NULL && a->output != NULL && a->height >= 1 && a->width >= 1
        && a->channel_begin >= 0 && a->channel_end >= a->channel_begin && a->row_begin >= 0
        && a->row_end >= a->row_begin && a->row_end <= (a->height - 1) / 2 + 1
        && (a->kind == SN_POOL_MAX || a->kind == SN_POOL_AVERAGE);
}


#if SN_KERNELS_X86
#define SN_X86_CASES(kernel, args)                                       \
    case SN_KERNELS_AVX512: sn_##kernel##_avx512(args); break;           \
    case SN_KERNELS_AVX2: sn_##kernel##_avx2(args); break;
#else
#define SN_X86_CASES(kernel, args)
#endif

/// `sn_<kernel>_variant`: refuses a variant the CPU cannot run and arguments that break the contract, then runs
/// the variant's implementation (`sn_<kernel>_avx512`, `_avx2` or `_generic`). Written once for every kernel
/// whose variants share one entry point.
#define SN_DEFINE_VARIANT_ENTRY(kernel, args_type)                                     \
    int sn_##kernel##_variant(sn_kernel_variant variant, const args_type *args) {      \
        if (!sn_kernels_supported(variant)) return SN_KERNELS_UNSUPPORTED_VARIANT;     \
        if (!kernel##_args_valid(args)) return SN_KERNELS_INVALID_ARGUMENT;            \
        switch (variant) {                                                             \
        SN_X86_CASES(kernel, args)                                                     \
        default: sn_##kernel##_generic(args); break;                                   \
        }                                                                              \
        return SN_KERNELS_OK;                                                          \
    }

SN_DEFINE_VARIANT_ENTRY(pointwise, sn_pointwise_args)
SN_DEFINE_VARIANT_ENTRY(dense, sn_dense_args)
SN_DEFINE_VARIANT_ENTRY(conv3x3s2, sn_conv3x3s2_args)
SN_DEFINE_VARIANT_ENTRY(pool3x3s2, sn_pool3x3s2_args)

int sn_depthwise3x3_variant(sn_kernel_variant variant, const sn_depthwise_args *args) {
    if (!sn_kernels_supported(variant)) return SN_KERNELS_UNSUPPORTED_VARIANT;
    if (!depthwise_args_valid(args)) return SN_KERNELS_INVALID_ARGUMENT;
#if SN_KERNELS_X86
    if (variant == SN_KERNELS_AVX512) {
        sn_depthwise3x3_avx512(args);  // masked loads read the planes in place: no padded copy
        return SN_KERNELS_OK;
    }
#endif
    // The other variants copy each channel into a zero-bordered scratch plane and run a per-plane kernel on it.
    sn_depthwise_plane_kernel plane = sn_depthwise_plane_generic;
#if SN_KERNELS_X86
    if (variant == SN_KERNELS_AVX2) plane = sn_depthwise_plane_avx2;
#endif
    sn_depthwise_plane_args p = {
        .padded = args->scratch,
        .padded_row = sn_padded_row(args->width),
        .output_height = (args->height - 1) / args->stride + 1,
        .output_width = (args->width - 1) / args->stride + 1,
        .stride = args->stride,
    };
    for (ptrdiff_t c = args->channel_begin; c < args->channel_end; c++) {
        sn_copy_with_zero_border(args->input + c * args->input_plane_stride, args->height, args->width, args->scratch);
        p.taps = args->weights + 9 * c;
        p.bias = args->bias[c];
        p.output = args->output + args->destinations[c] * args->output_plane_stride;
        plane(&p);
    }
    return SN_KERNELS_OK;
}




int sn_pointwise(const sn_pointwise_args *args) { return sn_pointwise_variant(sn_kernels_active(), args); }
int sn_depthwise3x3(const sn_depthwise_args *args) { return sn_depthwise3x3_variant(sn_kernels_active(), args); }
int sn_dense(const sn_dense_args *args) { return sn_dense_variant(sn_kernels_active(), args); }
int sn_conv3x3s2(const sn_conv3x3s2_args *args) { return sn_conv3x3s2_variant(sn_kernels_active(), args); }
int sn_pool3x3s2(const sn_pool3x3s2_args *args) { return sn_pool3x3s2_variant(sn_kernels_active(), args); }
