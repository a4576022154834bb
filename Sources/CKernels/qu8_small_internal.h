// What the small int8 operators' drivers (qu8_small_ops.c) and their micro-kernels (ukernels_qu8_small_<isa>.c,
// bodies in templates/qu8_small_ops.h) share: the micro-kernels' signatures, parameters and declarations. Kept
// apart from kernels_internal.h so that these operators can change without touching the convolutions' files.
#ifndef SHUFFLENET_QU8_SMALL_INTERNAL_H
#define SHUFFLENET_QU8_SMALL_INTERNAL_H

#include "kernels_internal.h"

/// The quantization of the scheme, `clamp(rint(v * inv_scale) + zero_point, 0, 255)`, computed as
/// `rint(clamp(v * inv_scale, low, high)) + zero_point` with `low = -zero_point`, `high = 255 - zero_point`: the
/// same for every finite v (rint is monotonic and keeps the integer bounds), and the clamp keeps `cvtps2dq` in range.
typedef struct sn_qu8_requant {
    float inv_scale;
    float low;
    float high;
    int32_t zero_point;
} sn_qu8_requant;

static inline sn_qu8_requant sn_qu8_requant_of(float inv_scale, uint8_t zero_point) {
    return (sn_qu8_requant){inv_scale, -(float)zero_point, 255.0f - (float)zero_point, zero_point};
}

/// Channels `4b ..< 4b + channels` (1 ... 4; the others of the block get the zero point) at `pixels` pixels:
/// `input` at channel 4b's plane and the first pixel, `output` at block b's first pixel.
typedef void (*sn_qu8_quantize_ukernel_fn)(const float *input, ptrdiff_t plane_stride, size_t channels, size_t pixels,
                                          uint8_t *output, const sn_qu8_requant *q);

/// The average pool's constants: `sum = sum_taps x - 9 z_in` (the padding taps read as z_in, so they add 0),
/// `v = (float)sum * step`, then `out`.
typedef struct sn_qu8_avgpool_params {
    int32_t input_zero_point;
    float step;
    sn_qu8_requant out;
    /// Whether (float)sum * step * inv_scale may reach 2^31 for some |sum| <= 9 * 255: the kernels then clamp
    /// before cvtps2dq (set by the driver).
    int clamp;
} sn_qu8_avgpool_params;

/// `blocks` consecutive blocks from `input` / `output`, each `height x width` pixels in.
typedef void (*sn_qu8_avgpool_ukernel_fn)(const uint8_t *input, ptrdiff_t input_block_stride, uint8_t *output,
                                         ptrdiff_t output_block_stride, size_t blocks, ptrdiff_t height, ptrdiff_t width,
                                         const sn_qu8_avgpool_params *p);

typedef struct sn_qu8_gap_params {
    int32_t zero_point;
    float scale;
    float pixels;
    sn_qu8_requant codes;
} sn_qu8_gap_params;

/// The whole global average pool (`codes` may be NULL).
typedef void (*sn_qu8_gap_ukernel_fn)(const uint8_t *input, ptrdiff_t block_stride, size_t channels, size_t pixels,
                                     const sn_qu8_gap_params *p, float *features, uint8_t *codes);

/// One output block of the channel copy: see templates/qu8_copy_channels.h.
typedef void (*sn_qu8_copy_ukernel_fn)(const uint8_t *const sources[4], const uint32_t shift[4], const uint32_t mask[4],
                                      uint32_t keep, uint8_t *output, size_t pixels);

typedef struct sn_qu8_copy_config {
    const char *name;
    sn_cpu_features required;
    sn_qu8_copy_ukernel_fn ukernel;
} sn_qu8_copy_config;

typedef struct sn_qu8_quantize_config {
    const char *name;
    sn_cpu_features required;
    sn_qu8_quantize_ukernel_fn ukernel;
} sn_qu8_quantize_config;

typedef struct sn_qu8_avgpool_config {
    const char *name;
    sn_cpu_features required;
    sn_qu8_avgpool_ukernel_fn ukernel;
} sn_qu8_avgpool_config;

typedef struct sn_qu8_gap_config {
    const char *name;
    sn_cpu_features required;
    sn_qu8_gap_ukernel_fn ukernel;
} sn_qu8_gap_config;

// MARK: - Micro-kernels

void sn_qu8_quantize_ukernel__generic(const float *input, ptrdiff_t plane_stride, size_t channels, size_t pixels,
                                      uint8_t *output, const sn_qu8_requant *q);
void sn_qu8_avgpool3x3s2_ukernel__generic(const uint8_t *input, ptrdiff_t input_block_stride, uint8_t *output,
                                          ptrdiff_t output_block_stride, size_t blocks, ptrdiff_t height, ptrdiff_t width,
                                          const sn_qu8_avgpool_params *p);
void sn_qu8_gavgpool_ukernel__generic(const uint8_t *input, ptrdiff_t block_stride, size_t channels, size_t pixels,
                                      const sn_qu8_gap_params *p, float *features, uint8_t *codes);
void sn_qu8_dense_ukernel_16__generic(const sn_qu8_dense_tile *tile);
void sn_qu8_copy_channels_ukernel__generic(const uint8_t *const sources[4], const uint32_t shift[4], const uint32_t mask[4],
                                           uint32_t keep, uint8_t *output, size_t pixels);
#if SN_KERNELS_X86
void sn_qu8_copy_channels_ukernel__avx2(const uint8_t *const sources[4], const uint32_t shift[4], const uint32_t mask[4],
                                        uint32_t keep, uint8_t *output, size_t pixels);
void sn_qu8_copy_channels_ukernel__avx512bw(const uint8_t *const sources[4], const uint32_t shift[4],
                                            const uint32_t mask[4], uint32_t keep, uint8_t *output, size_t pixels);
#endif
#if SN_KERNELS_X86
void sn_qu8_quantize_ukernel_8__avx2(const float *input, ptrdiff_t plane_stride, size_t channels, size_t pixels,
                                     uint8_t *output, const sn_qu8_requant *q);
void sn_qu8_quantize_ukernel_16__avx512bw(const float *input, ptrdiff_t plane_stride, size_t channels, size_t pixels,
                                          uint8_t *output, const sn_qu8_requant *q);
void sn_qu8_gavgpool_ukernel_8__avx2(const uint8_t *input, ptrdiff_t block_stride, size_t channels, size_t pixels,
                                     const sn_qu8_gap_params *p, float *features, uint8_t *codes);
void sn_qu8_gavgpool_ukernel_16__avx512vnni(const uint8_t *input, ptrdiff_t block_stride, size_t channels, size_t pixels,
                                            const sn_qu8_gap_params *p, float *features, uint8_t *codes);
void sn_qu8_avgpool3x3s2_ukernel_8__avx2(const uint8_t *input, ptrdiff_t input_block_stride, uint8_t *output,
                                         ptrdiff_t output_block_stride, size_t blocks, ptrdiff_t height, ptrdiff_t width,
                                         const sn_qu8_avgpool_params *p);
void sn_qu8_avgpool3x3s2_ukernel_16__avx512bw(const uint8_t *input, ptrdiff_t input_block_stride, uint8_t *output,
                                             ptrdiff_t output_block_stride, size_t blocks, ptrdiff_t height,
                                             ptrdiff_t width, const sn_qu8_avgpool_params *p);
void sn_qu8_dense_ukernel_64__avx2(const sn_qu8_dense_tile *tile);
void sn_qu8_dense_ukernel_128__avx512vnni(const sn_qu8_dense_tile *tile);
#endif

#endif
