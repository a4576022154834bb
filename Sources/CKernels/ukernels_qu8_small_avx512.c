// AVX-512 micro-kernels of the small int8 operators (qu8_small_internal.h): 16 int32 / float lanes, 64 bytes of a
// channel block (16 pixels x 4 channels) per zmm. Compiled for any x86-64 and only called through a configuration
// whose required features the CPU has (qu8_small_ops.c): AVX-512F + VNNI, which every CPU with AVX-512 VNNI pairs
// with BW and VL (as the int8 pointwise kernels assume).
#include "qu8_small_internal.h"

#if SN_KERNELS_X86
#include <immintrin.h>
#include <string.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma"))), apply_to = function)

// MARK: - Dense (templates/qu8_dense.h): vpdpbusd of the broadcast input quad (u8) with 16 rows' s8 quads.

#define SN_QD_UKERNEL sn_qu8_dense_ukernel_128__avx512vnni
#define SN_QD_LANES 16
#define SN_QD_MAX_PANELS 8
#define SN_QD_I __m512i
#define SN_QD_F __m512
#define SN_QD_X __m512i
#define SN_QD_XBCAST(quad) _mm512_set1_epi32((int)(quad))
#define SN_QD_DOT(acc, x, p) _mm512_dpbusd_epi32((acc), (x), _mm512_loadu_si512((const void *)(p)))
#define SN_QD_LOAD_I(p) _mm512_loadu_si512((const void *)(p))
#define SN_QD_LOAD_F(p) _mm512_loadu_ps(p)
#define SN_QD_CVT_F(i) _mm512_cvtepi32_ps(i)
#define SN_QD_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define SN_QD_STORE_F(p, v, first, count) \
    _mm512_mask_storeu_ps((p), (__mmask16)((((1u << (count)) - 1u) << (first)) & 0xffffu), (v))
#include "templates/qu8_dense.h"

#pragma clang attribute pop
#endif
