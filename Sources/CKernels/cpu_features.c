// CPU features, probed once, and the caps SHUFFLENET_KERNELS puts on them (XNNPACK's "hardware config"). Which
// micro-kernels run is decided from these bits by each operator's configuration table (configs.c), not by a
// global order of instruction sets.
#include "kernels_internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if SN_KERNELS_X86
#include <cpuid.h>

/// XCR0: which register states the OS saves on context switches (a feature is usable only if they are).
static uint64_t read_xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (uint64_t)edx << 32 | eax;
}

static sn_cpu_features probe(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    const int fma = (ecx >> 12) & 1, osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1, f16c = (ecx >> 29) & 1;
    if (!osxsave || !avx) return 0;
    const uint64_t xcr0 = read_xcr0();
    const int ymm = (xcr0 & 0x6) == 0x6;            // SSE and AVX state
    const int zmm = ymm && (xcr0 & 0xe0) == 0xe0;   // opmask, ZMM0-15 upper halves, ZMM16-31
    if (!ymm || __get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    const int avx2 = (ebx >> 5) & 1, avx512f = (ebx >> 16) & 1, avx512vnni = (ecx >> 11) & 1;
    const unsigned max_subleaf = eax;
    int avxvnni = 0;
    if (max_subleaf >= 1) {
        __cpuid_count(7, 1, eax, ebx, ecx, edx);
        avxvnni = (eax >> 4) & 1;
    }
    sn_cpu_features f = 0;
    // F16C (binary16 conversions, older than AVX2: every AVX2 CPU has it) goes with this bit: the AVX2 kernels use it.
    if (avx2 && fma && f16c) f |= SN_CPU_X86_AVX2_FMA;
    // The 512-bit kernels also use AVX2 + FMA instructions on their narrower helpers.
    if (zmm && avx512f && (f & SN_CPU_X86_AVX2_FMA)) f |= SN_CPU_X86_AVX512F;
    if ((f & SN_CPU_X86_AVX512F) && avx512vnni) f |= SN_CPU_X86_AVX512VNNI;
    if ((f & SN_CPU_X86_AVX2_FMA) && avxvnni) f |= SN_CPU_X86_AVXVNNI;
    return f;
}
#elif defined(__aarch64__)
#if defined(__linux__)
#include <sys/auxv.h>
#endif

static sn_cpu_features probe(void) {
    sn_cpu_features f = SN_CPU_ARM_NEON;  // part of the arm64 baseline
#if defined(__linux__)
    const unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
    if (hwcap & (1ul << 20)) f |= SN_CPU_ARM_DOTPROD;  // HWCAP_ASIMDDP
    if (hwcap2 & (1ul << 13)) f |= SN_CPU_ARM_I8MM;    // HWCAP2_I8MM
#elif defined(__APPLE__)
    f |= SN_CPU_ARM_DOTPROD;  // every Apple arm64 chip has it; i8mm left off until a kernel needs it
#endif
    return f;
}
#else
static sn_cpu_features probe(void) { return 0; }
#endif

static const char *const variant_names[SN_KERNEL_VARIANT_COUNT] = {"generic", "avx2", "avx512"};

const char *sn_kernels_name(sn_kernel_variant variant) {
    return (unsigned)variant < SN_KERNEL_VARIANT_COUNT ? variant_names[variant] : NULL;
}

/// What each cap allows. A cap bounds the features from above, so `avx2` keeps AVX-VNNI (a 256-bit extension)
/// and `avx512` every VNNI; the arm64 features are never capped by the x86 names.
sn_cpu_features sn_kernels_cap(sn_kernel_variant variant) {
    const sn_cpu_features arm = SN_CPU_ARM_NEON | SN_CPU_ARM_DOTPROD | SN_CPU_ARM_I8MM;
    switch (variant) {
    case SN_KERNELS_GENERIC: return 0;
    case SN_KERNELS_AVX2: return arm | SN_CPU_X86_AVX2_FMA | SN_CPU_X86_AVXVNNI;
    case SN_KERNELS_AVX512:
        return arm | SN_CPU_X86_AVX2_FMA | SN_CPU_X86_AVXVNNI | SN_CPU_X86_AVX512F | SN_CPU_X86_AVX512VNNI;
    default: return 0;
    }
}

sn_cpu_features sn_kernels_cap_requires(sn_kernel_variant variant) {
    switch (variant) {
    case SN_KERNELS_GENERIC: return 0;
    case SN_KERNELS_AVX2: return SN_CPU_X86_AVX2_FMA;
    case SN_KERNELS_AVX512: return SN_CPU_X86_AVX2_FMA | SN_CPU_X86_AVX512F;
    default: return ~(sn_cpu_features)0;
    }
}

/// SHUFFLENET_KERNELS as a cap, -1 when unset or empty, -2 when not a cap name.
static int parse_request(void) {
    const char *value = getenv("SHUFFLENET_KERNELS");
    if (value == NULL || value[0] == '\0') return -1;
    for (int v = 0; v < SN_KERNEL_VARIANT_COUNT; v++) {
        if (strcmp(value, variant_names[v]) == 0) return v;
    }
    return -2;
}

/// Everything resolved, packed in one integer so that a single atomic publishes it: bits 0-15 the detected
/// features, 16-31 the enabled ones, 32-39 `requested + 2`, bit 40 "resolved". Two threads racing on the first
/// call compute the same value, so either store wins.
static _Atomic(uint64_t) resolution = 0;

static uint64_t resolve(void) {
    uint64_t packed = atomic_load_explicit(&resolution, memory_order_acquire);
    if (packed != 0) return packed;
    const sn_cpu_features detected = probe();
    const int requested = parse_request();
    const sn_cpu_features enabled = requested >= 0 ? detected & sn_kernels_cap((sn_kernel_variant)requested) : detected;
    packed = (uint64_t)(detected & 0xffff) | (uint64_t)(enabled & 0xffff) << 16 | (uint64_t)(requested + 2) << 32
        | (uint64_t)1 << 40;
    atomic_store_explicit(&resolution, packed, memory_order_release);
    return packed;
}

sn_cpu_features sn_cpu_features_detected(void) { return (sn_cpu_features)(resolve() & 0xffff); }
sn_cpu_features sn_cpu_features_enabled(void) { return (sn_cpu_features)(resolve() >> 16 & 0xffff); }
int sn_kernels_requested(void) { return (int)(resolve() >> 32 & 0xff) - 2; }

int sn_kernels_supported(sn_kernel_variant variant) {
    if ((unsigned)variant >= SN_KERNEL_VARIANT_COUNT) return 0;
    const sn_cpu_features needs = sn_kernels_cap_requires(variant);
    return (sn_cpu_features_detected() & needs) == needs;
}

sn_kernel_variant sn_kernels_active(void) {
    const sn_cpu_features enabled = sn_cpu_features_enabled();
    for (int v = SN_KERNEL_VARIANT_COUNT - 1; v > SN_KERNELS_GENERIC; v--) {
        const sn_cpu_features needs = sn_kernels_cap_requires((sn_kernel_variant)v);
        if ((enabled & needs) == needs) return (sn_kernel_variant)v;
    }
    return SN_KERNELS_GENERIC;
}

size_t sn_cpu_features_describe(sn_cpu_features features, char *buffer, size_t size) {
    static const struct { sn_cpu_features bit; const char *name; } names[] = {
        {SN_CPU_X86_AVX2_FMA, "avx2+fma"}, {SN_CPU_X86_AVX512F, "avx512f"}, {SN_CPU_X86_AVX512VNNI, "avx512vnni"},
        {SN_CPU_X86_AVXVNNI, "avxvnni"},   {SN_CPU_ARM_NEON, "neon"},       {SN_CPU_ARM_DOTPROD, "dotprod"},
        {SN_CPU_ARM_I8MM, "i8mm"},
    };
    char text[128] = "";
    size_t length = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (features & names[i].bit) {
            length += (size_t)snprintf(text + length, sizeof text - length, "%s%s", length ? " " : "", names[i].name);
        }
    }
    if (length == 0) length = (size_t)snprintf(text, sizeof text, "none");
    if (size > 0) snprintf(buffer, size, "%s", text);
    return length;
}
