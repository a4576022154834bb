// AVX-VNNI int8 micro-kernels (the VEX-encoded 256-bit `vpdpbusd` of Alder Lake and Sapphire Rapids): 8 pixels
// per ymm, `vpdpbusd` (u8 x s8, 4 products summed into each int32 lane, exact: no intermediate saturation).
// Compiled for any x86-64 (when the compiler knows the target) and only called through a configuration whose
// required features (AVX-VNNI, AVX2 + FMA) the CPU has (configs.c). Not run on the development machine (AVX-512
// VNNI without AVX-VNNI): Scripts/qu8_pointwise_bench.c checks this file through an EVEX stand-in there.
#include "kernels_internal.h"

#if SN_KERNELS_X86 && SN_HAVE_AVXVNNI
#include <immintrin.h>
#include <string.h>

#pragma clang attribute push(__attribute__((target("avxvnni,avx2,fma"))), apply_to = function)



// The int8 vector layer (templates/qu8_pointwise.h).
#define SN_QB 4
#define SN_QX __m256i
#define SN_QLOADX(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define SN_QW __m256i
#define SN_QLOADW(p) _mm256_set1_epi32(sn_load_quad(p))
#define SN_QDOT(acc, x, w) _mm256_dpbusd_avx_epi32((acc), (x), (w))
#include "templates/qu8_vector_layer_avx256.h"

// 4 x 3 accumulators, 3 input vectors and a broadcast: the 16 registers.
#define SN_QPW_UKERNEL sn_qu8_pointwise_ukernel_4x24__avxvnni
#define SN_QPW_MR 4
#define SN_QPW_NV 3
#include "templates/qu8_pointwise.h"

#pragma clang attribute pop
#endif
