// The vector layer the micro-kernel templates in this folder are written against. Each ukernels_<isa>.c file
// defines these macros for its instruction set, opens `#pragma clang attribute push(__attribute__((target(...))),
// apply_to = function)` so that every function it compiles (the templates' included) may use that instruction set,
// and then includes each template once per micro-kernel with the template's parameters (its tile sizes and the
// function's name). A template body is thus written once and compiled once per instruction set; what differs
// between instruction sets is only these few lines. This header documents the contract; it defines nothing.
//
//   SN_INLINE               static inline __attribute__((always_inline))
//   SN_V                    the vector type (__m512, __m256, a clang ext_vector_type(4) of float)
//   SN_LANES                floats per vector (16, 8, 4)
//   SN_VLOAD(p)             unaligned load of SN_LANES floats
//   SN_VSTORE(p, v)         unaligned store
//   SN_VSET1(x)             x in every lane
//   SN_VZERO()              zero in every lane
//   SN_VFMA(a, b, c)        a * b + c (fused where the instruction set has FMA)
//   SN_VADD(a, b), SN_VMAX(a, b)
//   SN_VLOAD_LANES(p, n)    lanes 0 ..< n from p, the others zero; reads nothing past p[n - 1]
//   SN_VSTORE_LANES(p, v, n) stores lanes 0 ..< n of v; writes nothing else
//   SN_VREDUCE_ADD(v)       the sum of the lanes (a float)
//   SN_VLOAD_EVEN(p)        p[0], p[2], ..., p[2 * SN_LANES - 2] (stride-2 windows; the dwconv plane template only)
//   SN_PREFETCH(p)          a hint to fetch p's cache line into L1
//   SN_MASKED_STORE_IS_FREE 1 where SN_VSTORE_LANES of every lane costs what SN_VSTORE costs (AVX-512's masked
//                           stores): the templates then store every vector masked instead of testing for a partial one
//
// Templates: f32_pointwise.h (SN_POINTWISE_UKERNEL, _MR, _NV, _TAIL_MAX), f32_dense.h (SN_DENSE_UKERNEL),
// f32_dwconv3x3_plane.h (SN_DWCONV_PLANE_UKERNEL), f32_conv3x3s2.h and f32_pool3x3s2.h (which also need a few mask
// and shuffle macros, listed in f32_pool3x3s2.h). Micro-kernels are named as XNNPACK names them:
// sn_<type>_<family>_ukernel_<tile>__<isa>, e.g. sn_f32_pointwise_ukernel_8x48__avx512f (8 channels x 48 pixels).
#error "documentation only: include the templates, not this file"
