// The hot loops of the ShuffleNet engine, in C so that they can be compiled for several instruction sets in one
// binary: each variant is built with a per-function `target(...)` attribute and the fastest one the CPU supports is
// picked at run time. Swift cannot do this (its SIMD `addingProduct` becomes a call to `fmaf` unless the whole
// module is built with `-target-cpu`), and a package cannot ask its dependents for compiler flags.
//
// Layout conventions are the engine's (ShuffleNetEngine, whose Kernels/ folder holds the Swift wrappers that call
// these and the naive reference kernels they are tested against): channel planes of floats, each plane
// `*_plane_stride` floats apart. Nothing here allocates, and every function is safe to call from several threads at once.
#ifndef SHUFFLENET_KERNELS_H
#define SHUFFLENET_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One implementation of every kernel. The numeric values are stable (Swift mirrors them).
typedef enum sn_kernel_variant {
    /// Portable C, vectorised by the compiler for the baseline of the target (SSE2 on x86-64, NEON on arm64).
    SN_KERNELS_GENERIC = 0,
    /// 8-lane AVX2 + FMA intrinsics (x86-64 since Haswell / Zen).
    SN_KERNELS_AVX2 = 1,
    /// 16-lane AVX-512F intrinsics (x86-64 since Skylake-SP / Zen 4).
    SN_KERNELS_AVX512 = 2,
} sn_kernel_variant;

/// Number of variants (for iterating over them).
#define SN_KERNEL_VARIANT_COUNT 3

/// Whether this CPU (and OS: the wide registers must be saved on context switches) can run `variant`.
int sn_kernels_supported(sn_kernel_variant variant);

/// The variant every non-`_variant` entry point uses: the one `SHUFFLENET_KERNELS` (avx512, avx2 or generic)
/// names if this CPU supports it, else the fastest supported. Resolved once, on first use; thread-safe.
sn_kernel_variant sn_kernels_active(void);

/// What `SHUFFLENET_KERNELS` asked for when the active variant was resolved: a variant (>= 0), -1 when the variable
/// is unset or empty, -2 when its value is not a variant name. Lets callers report a request that was not honoured.
int sn_kernels_requested(void);

/// "generic", "avx2" or "avx512" (NULL for a value outside the enum).
const char *sn_kernels_name(sn_kernel_variant variant);

/// What a pointwise convolution does to `bias + sum` before storing it.
typedef enum sn_pointwise_epilogue {
    SN_EPILOGUE_LINEAR = 0,
    SN_EPILOGUE_RELU = 1,
    /// `max(bias + sum + residual, 0)`, the residual read from `residual` with `residual_plane_stride`.
    SN_EPILOGUE_ADD_RESIDUAL_RELU = 2,
} sn_pointwise_epilogue;

/// A grouped 1x1 convolution (BatchNorm folded in), for output channels `output_begin ..< output_end`:
///
///     out[o][p] = epilogue(bias[o] + sum_{i < inputs_per_group} W[o][i] * input[group(o) * inputs_per_group + i][p])
///
/// with group(o) = o / outputs_per_group, for pixels `0 ..< pixels` (any count). Every plane (input, output,
/// residual) must have room for `pixels` rounded up to a multiple of 16 floats: the 8- and 16-lane variants may
/// compute those padding pixels like real ones (and write them), or leave them alone. `W` is passed packed, see
/// `sn_pointwise_pack_weights`.
typedef struct sn_pointwise_args {
    const float *input;
    ptrdiff_t input_plane_stride;
    float *output;
    ptrdiff_t output_plane_stride;
    /// `W` in the panel layout of `sn_pointwise_pack_weights`, packed with `panel_rows`.
    const float *weights;
    /// `[outputs]`.
    const float *bias;
    /// Only read by SN_EPILOGUE_ADD_RESIDUAL_RELU. May be `output` itself (same plane stride): each value is read
    /// before the value at the same place is written, so the sum can replace the residual in place.
    const float *residual;
    ptrdiff_t residual_plane_stride;
    ptrdiff_t inputs_per_group;
    ptrdiff_t outputs_per_group;
    ptrdiff_t output_begin;
    ptrdiff_t output_end;
    ptrdiff_t pixels;
    sn_pointwise_epilogue epilogue;
    /// The `panel_rows` the weights were packed with: 1 ... SN_POINTWISE_MAX_PANEL_ROWS. Every variant runs with
    /// any of them; `sn_pointwise_panel_rows` tells which suits a variant best.
    ptrdiff_t panel_rows;
} sn_pointwise_args;

/// The tallest weight panel the pointwise kernels accept.
#define SN_POINTWISE_MAX_PANEL_ROWS 8

/// The panel height `variant`'s register blocks are made for: 8 for AVX-512 (blocks of 8 channels x 48 pixels), 6
/// for AVX2 (6 x 16), 4 for the portable code (4 x 16). 0 for a value outside the enum.
ptrdiff_t sn_pointwise_panel_rows(sn_kernel_variant variant);

/// Packs `W` (`[outputs][inputs_per_group]`, row-major) into `packed` (as many floats). Within each group, output
/// channels form ceil(outputs_per_group / panel_rows) panels as equal as they can be (10 channels in panels of 8:
/// 5 + 5; 20: 7 + 7 + 6; wider panels first), in channel order; a panel of `n` channels from channel `first` starts
/// at `packed + first * inputs_per_group` and stores, for each input `i`, its `n` weights side by side:
/// `panel[i * n + r] = W[first + r][i]`. A register block then reads its weights from one stream instead of one per
/// channel, and the weights of its channels for one input are one vector load, which lets a few pixels past the
/// last multiple of 16 be computed as lanes of one FMA instead of a mostly empty 16-pixel vector per channel.
/// Returns SN_KERNELS_INVALID_ARGUMENT (packing nothing) unless `outputs_per_group` divides `outputs` and
/// `panel_rows` is 1 ... SN_POINTWISE_MAX_PANEL_ROWS.
int sn_pointwise_pack_weights(const float *weights, ptrdiff_t outputs, ptrdiff_t inputs_per_group,
                              ptrdiff_t outputs_per_group, ptrdiff_t panel_rows, float *packed);

/// Row length, in floats, of the zero-bordered scratch plane for inputs `width` pixels wide: room for the left
/// border and for the widest read past the last pixel (stride 2 reads 16 outputs x 2 + 2 columns from `2x`).
ptrdiff_t sn_padded_row(ptrdiff_t width);

/// Floats of scratch one `height x width` plane needs (rows of `sn_padded_row(width)`, plus slack after the last).
ptrdiff_t sn_padded_plane_count(ptrdiff_t height, ptrdiff_t width);

/// Copies a `height x width` plane to position (1, 1) of `scratch` (rows of `sn_padded_row(width)` floats) and
/// zeroes everything around it: exactly the padding a 3x3 window needs, without clearing the whole scratch.
void sn_copy_with_zero_border(const float *source, ptrdiff_t height, ptrdiff_t width, float *scratch);

/// A 3x3 depthwise convolution, padding 1, stride 1 or 2 (BatchNorm folded in), for channels
/// `channel_begin ..< channel_end`. Channel `c` is read from input plane `c` and written, row-major
/// `output_height x output_width`, to output plane `destinations[c]` (how the channel shuffle is applied).
/// The portable and AVX2 variants first copy each channel into `scratch` with `sn_copy_with_zero_border`, so their taps
/// need no bounds checks; the AVX-512 variant reads the planes in place with masked loads and leaves `scratch` alone.
typedef struct sn_depthwise_args {
    const float *input;
    ptrdiff_t input_plane_stride;
    ptrdiff_t height;
    ptrdiff_t width;
    float *output;
    ptrdiff_t output_plane_stride;
    /// `[channels]`: the output plane of each channel.
    const ptrdiff_t *destinations;
    /// `[channels][3][3]`.
    const float *weights;
    /// `[channels]`.
    const float *bias;
    ptrdiff_t channel_begin;
    ptrdiff_t channel_end;
    /// `sn_padded_plane_count(height, width)` floats, owned by the calling thread.
    float *scratch;
    /// 1 or 2.
    int stride;
} sn_depthwise_args;

/// A fully connected layer for outputs `output_begin ..< output_end`: `y[o] = bias[o] + sum_i weights[o][i] * x[i]`.
typedef struct sn_dense_args {
    const float *input;
    float *output;
    /// `[outputs][inputs]`.
    const float *weights;
    /// NULL for no bias.
    const float *bias;
    ptrdiff_t inputs;
    ptrdiff_t output_begin;
    ptrdiff_t output_end;
} sn_dense_args;

/// A dense (ungrouped) 3x3 convolution with stride 2 and padding 1 over a few input channels, BatchNorm folded
/// in, ReLU fused: the stem of a network, computed straight from the input planes (no im2col matrix, no padded
/// copy: taps that fall outside the plane are left out). Writes output rows `row_begin ..< row_end` of every output
/// channel:
///
///     out[o][y][x] = max(0, bias[o] + sum_{c, ky, kx} weights[o][c][ky][kx] * in[c][2y - 1 + ky][2x - 1 + kx])
typedef struct sn_conv3x3s2_args {
    /// `input_channels` planes of `height x width` floats (row-major), `input_plane_stride` floats apart. Nothing
    /// outside them is read.
    const float *input;
    ptrdiff_t input_plane_stride;
    ptrdiff_t input_channels;
    ptrdiff_t height;
    ptrdiff_t width;
    /// Planes of `(height - 1) / 2 + 1` rows of `(width - 1) / 2 + 1` floats, `output_plane_stride` floats apart.
    float *output;
    ptrdiff_t output_plane_stride;
    /// `[input_channels][3][3][outputs]`: for each tap, the weights of all outputs side by side, so a block of
    /// outputs finds its weights at fixed offsets from one pointer.
    const float *weights;
    /// `[outputs]`.
    const float *bias;
    ptrdiff_t outputs;
    ptrdiff_t row_begin;
    ptrdiff_t row_end;
    /// Output row y is stored at row `y - output_row_base` of each output plane, so a band of rows can be
    /// written to a small buffer (0: the planes hold every row).
    ptrdiff_t output_row_base;
} sn_conv3x3s2_args;

/// How a pooling window combines its values.
typedef enum sn_pool_kind {
    /// The largest value in the window; the padding never wins (PyTorch's MaxPool2d).
    SN_POOL_MAX = 0,
    /// The window's sum divided by 9 everywhere, padding included (PyTorch's AvgPool2d, count_include_pad=True).
    SN_POOL_AVERAGE = 1,
} sn_pool_kind;

/// A 3x3 pooling window with stride 2 and padding 1 for channels `channel_begin ..< channel_end` and output rows
/// `row_begin ..< row_end`: plane `c` of the input (`height x width`, row-major) to plane `c` of the output
/// (`(height - 1) / 2 + 1` rows of `(width - 1) / 2 + 1`). Reads only the input rows those output rows cover
/// (2y - 1 ... 2y + 1 inside the plane), nothing outside them.
typedef struct sn_pool3x3s2_args {
    /// Input row r of plane c is at `input + c * input_plane_stride + (r - input_row_base) * width`: with a base,
    /// `input` can hold just the band of rows that `row_begin ..< row_end` needs.
    const float *input;
    ptrdiff_t input_plane_stride;
    ptrdiff_t input_row_base;
    ptrdiff_t height;
    ptrdiff_t width;
    float *output;
    ptrdiff_t output_plane_stride;
    ptrdiff_t channel_begin;
    ptrdiff_t channel_end;
    ptrdiff_t row_begin;
    ptrdiff_t row_end;
    sn_pool_kind kind;
} sn_pool3x3s2_args;

/// Return codes of the entry points.
#define SN_KERNELS_OK 0
/// The variant asked for cannot run on this CPU (or is not compiled for this architecture).
#define SN_KERNELS_UNSUPPORTED_VARIANT (-1)
/// The arguments break the contract above (e.g. a negative pixel count, stride not 1 or 2).
#define SN_KERNELS_INVALID_ARGUMENT (-2)

/// The kernels on the active variant.
int sn_pointwise(const sn_pointwise_args *args);
int sn_depthwise3x3(const sn_depthwise_args *args);
int sn_dense(const sn_dense_args *args);
int sn_conv3x3s2(const sn_conv3x3s2_args *args);
int sn_pool3x3s2(const sn_pool3x3s2_args *args);

/// The kernels on an explicitly chosen variant (tests, benchmarks). Nothing is run when it is unsupported.
int sn_pointwise_variant(sn_kernel_variant variant, const sn_pointwise_args *args);
int sn_depthwise3x3_variant(sn_kernel_variant variant, const sn_depthwise_args *args);
int sn_dense_variant(sn_kernel_variant variant, const sn_dense_args *args);
int sn_conv3x3s2_variant(sn_kernel_variant variant, const sn_conv3x3s2_args *args);
int sn_pool3x3s2_variant(sn_kernel_variant variant, const sn_pool3x3s2_args *args);

#ifdef __cplusplus
}
#endif

#endif
