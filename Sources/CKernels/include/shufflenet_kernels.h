// The hot loops of the ShuffleNet engine, in C so that they can be compiled for several instruction sets in one
// binary and picked at run time. Swift cannot do this (its SIMD `addingProduct` becomes a call to `fmaf` unless the
// whole module is built with `-target-cpu`), and a package cannot ask its dependents for compiler flags.
//
// The layer is split the way XNNPACK splits its own (README, "How it is built"):
//   - CPU features: probed once (`sn_cpu_features_detected`); `SHUFFLENET_KERNELS` caps them.
//   - Configurations: for each operator, a table of micro-kernel configurations (function pointers, register tile,
//     packed-weight layout, required features), best first. `sn_f32_kernels_select` takes, per operator, the first
//     one whose features the CPU has: no global order between instruction sets is needed (AVX-VNNI and AVX-512F,
//     NEON dotprod and i8mm are just different bits).
//   - Drivers: one plain-C function per operator (`sn_f32_pointwise`, ...) shared by every instruction set. It
//     checks the arguments and the packed weights' layout, runs the group / tile / panel loops and calls the
//     configuration's fixed-tile micro-kernels, which share one signature per family.
//   - Micro-kernels: named as XNNPACK names them (`sn_f32_pointwise_ukernel_8x48__avx512f`); each family's per-ISA
//     kernels come from one template body compiled once per instruction set (Sources/CKernels/templates).
//   - Packed weights: an opaque object carrying its layout; a driver refuses weights packed for another layout.
//
// Layout conventions are the engine's (ShuffleNetEngine, whose Kernels/ folder holds the Swift wrappers that call
// these and the naive reference kernels they are tested against): channel planes of floats, each plane
// `*_plane_stride` floats apart. Only packing allocates, and every function is safe to call from several threads
// at once.
#ifndef SHUFFLENET_KERNELS_H
#define SHUFFLENET_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - CPU features and caps

/// CPU features the kernels may use, one bit each. A bit is set only when the OS also saves the registers it needs.
typedef uint32_t sn_cpu_features;
/// x86-64: AVX2, FMA3 and F16C (Haswell, Zen).
#define SN_CPU_X86_AVX2_FMA ((sn_cpu_features)1 << 0)
/// x86-64: AVX-512F (Skylake-SP, Zen 4).
#define SN_CPU_X86_AVX512F ((sn_cpu_features)1 << 1)
/// x86-64: AVX-512 VNNI (`vpdpbusd` on zmm; Cascade Lake, Ice Lake, Zen 4).
#define SN_CPU_X86_AVX512VNNI ((sn_cpu_features)1 << 2)
/// x86-64: AVX-VNNI (the VEX-encoded 256-bit `vpdpbusd`; Alder Lake, Sapphire Rapids). Not ordered against
/// AVX-512F: a CPU may have either without the other.
#define SN_CPU_X86_AVXVNNI ((sn_cpu_features)1 << 3)
/// arm64: Advanced SIMD (always there on arm64).
#define SN_CPU_ARM_NEON ((sn_cpu_features)1 << 8)
/// arm64: SDOT / UDOT.
#define SN_CPU_ARM_DOTPROD ((sn_cpu_features)1 << 9)
/// arm64: SMMLA / UMMLA.
#define SN_CPU_ARM_I8MM ((sn_cpu_features)1 << 10)

/// What this CPU and OS support, probed once (thread-safe).
sn_cpu_features sn_cpu_features_detected(void);

/// The features the kernels use by default: the detected ones, capped by `SHUFFLENET_KERNELS` when it names a
/// known cap (see `sn_kernels_requested`).
sn_cpu_features sn_cpu_features_enabled(void);

/// Writes the names of the bits of `features` ("avx2+fma avx512f avx512vnni"), separated by spaces, into `buffer`
/// (always NUL-terminated when `size` > 0; "none" for no bits). Returns the length the full text needs.
size_t sn_cpu_features_describe(sn_cpu_features features, char *buffer, size_t size);

/// The named caps `SHUFFLENET_KERNELS` accepts, in increasing order of what they allow, and the fp32 kernel
/// configuration set they pin. The numeric values are stable (Swift mirrors them).
typedef enum sn_kernel_variant {
    /// No optional feature: portable C, vectorised by the compiler for the target's baseline (SSE2 on x86-64,
    /// NEON on arm64).
    SN_KERNELS_GENERIC = 0,
    /// Up to AVX2 + FMA (and AVX-VNNI): 8-lane kernels.
    SN_KERNELS_AVX2 = 1,
    /// Up to AVX-512F (and every VNNI): 16-lane kernels.
    SN_KERNELS_AVX512 = 2,
} sn_kernel_variant;

/// Number of caps (for iterating over them).
#define SN_KERNEL_VARIANT_COUNT 3

/// "generic", "avx2" or "avx512" (NULL for a value outside the enum).
const char *sn_kernels_name(sn_kernel_variant variant);

/// The features the cap `variant` allows (NULL-safe: 0 outside the enum).
sn_cpu_features sn_kernels_cap(sn_kernel_variant variant);

/// The features the cap `variant` needs to mean anything: a cap is supported when the CPU has all of them
/// (generic needs none; avx2 needs AVX2+FMA; avx512 needs AVX-512F and AVX2+FMA).
sn_cpu_features sn_kernels_cap_requires(sn_kernel_variant variant);

/// Whether this CPU (and OS) can run the kernels the cap `variant` pins.
int sn_kernels_supported(sn_kernel_variant variant);

/// The widest cap within the enabled features: the one whose kernels every default call runs. Resolved once.
sn_kernel_variant sn_kernels_active(void);

/// What `SHUFFLENET_KERNELS` asked for: a cap (>= 0), -1 when the variable is unset or empty, -2 when its value is
/// not a cap name (it is then ignored). Lets callers report a request that was not honoured.
int sn_kernels_requested(void);

// MARK: - Return codes

#define SN_KERNELS_OK 0
/// The configuration asked for cannot run on this CPU (or is not compiled for this architecture).
#define SN_KERNELS_UNSUPPORTED_VARIANT (-1)
/// The arguments break the contract below (e.g. a negative pixel count, stride not 1 or 2).
#define SN_KERNELS_INVALID_ARGUMENT (-2)
/// The packed weights were packed for another layout (another configuration's register tile), or for another shape.
#define SN_KERNELS_LAYOUT_MISMATCH (-3)
/// Packing could not allocate its buffer.
#define SN_KERNELS_OUT_OF_MEMORY (-4)

// MARK: - Packed weights

/// What a packed-weights object holds, and how. A driver runs only on weights whose layout is its configuration's.
typedef enum sn_weights_layout {
    SN_LAYOUT_NONE = 0,
    /// Grouped 1x1 convolution weights in panels at most `n` output channels high (n = 1 ... 8), then the bias:
    /// see `sn_f32_pointwise_pack`. The value is `SN_LAYOUT_F32_POINTWISE_PANELS_1 - 1 + n`.
    SN_LAYOUT_F32_POINTWISE_PANELS_1 = 0x101,
    SN_LAYOUT_F32_POINTWISE_PANELS_4 = 0x104,
    SN_LAYOUT_F32_POINTWISE_PANELS_6 = 0x106,
    SN_LAYOUT_F32_POINTWISE_PANELS_8 = 0x108,
    /// A 3x3 stride-2 convolution's weights as `[input_channels][3][3][outputs]`, then the bias.
    SN_LAYOUT_F32_CONV3X3S2_CKKO = 0x201,
    /// Grouped 1x1 convolution, s8 weights for u8 inputs: panels of `n` padded output rows (n = 4 or 8), for each
    /// quad of 4 consecutive inputs the `n` rows' 4 weights side by side (`vpdpbusd`'s operand); then the per-output
    /// int32 terms and fp32 epilogue constants. See `sn_qu8_pointwise_pack`.
    SN_LAYOUT_QU8_POINTWISE_QUADS_4 = 0x304,
    SN_LAYOUT_QU8_POINTWISE_QUADS_8 = 0x308,
    /// The same with each quad's weights as two pairs of int16, `(w0, w2)` then `(w1, w3)` (`vpmaddwd`'s operands).
    SN_LAYOUT_QU8_POINTWISE_PAIRS16_4 = 0x314,
    /// int8 3x3 depthwise, one record per *output* block (the 4 channels that land in it after the shuffle): their
    /// source slots, taps as s8 quads and int16 pairs, terms and epilogue constants. See `sn_qu8_depthwise3x3_pack`.
    SN_LAYOUT_QU8_DWCONV3X3_BLOCKS = 0x401,
    /// int8 dense (classifier): panels of 16 padded output rows, for each quad of 4 consecutive inputs the 16 rows'
    /// 4 weights side by side (64 bytes, one `vpdpbusd` operand); then per padded row the int32 terms,
    /// multipliers and biases. See `sn_qu8_dense_pack`.
    SN_LAYOUT_QU8_DENSE_QUADS_16 = 0x501,
} sn_weights_layout;

/// Packed weights and bias of one layer: opaque, immutable once made, shareable between threads.
typedef struct sn_packed_weights sn_packed_weights;

/// The layout `packed` was made in (SN_LAYOUT_NONE for NULL).
sn_weights_layout sn_packed_weights_layout(const sn_packed_weights *packed);

/// Bytes the object holds (header included).
size_t sn_packed_weights_bytes(const sn_packed_weights *packed);

/// Frees a packed-weights object (NULL is fine).
void sn_packed_weights_free(sn_packed_weights *packed);

// MARK: - Pointwise (grouped 1x1) convolution

/// What a pointwise convolution does to `bias + sum` before storing it.
typedef enum sn_pointwise_epilogue {
    SN_EPILOGUE_LINEAR = 0,
    SN_EPILOGUE_RELU = 1,
    /// `max(bias + sum + residual, 0)`, the residual read from `residual` with `residual_plane_stride`.
    SN_EPILOGUE_ADD_RESIDUAL_RELU = 2,
} sn_pointwise_epilogue;

/// The tallest weight panel any pointwise configuration packs.
#define SN_POINTWISE_MAX_PANEL_ROWS 8

/// One pixel tile of one group of a pointwise convolution: the group's output channels `begin ..< end` (counted from
/// its first channel) at `vectors` whole vectors of pixels, then `tail` more pixels (at most the configuration's
/// `tail_max`) computed as channel lanes. The micro-kernel walks the group's weight panels over those channels, one
/// register tile (at most `mr` channels) per panel and block of pixels, as XNNPACK's micro-kernels walk the output
/// channels themselves: one call per tile, not per panel (a call per panel cost 1%). Pointers are at the group's
/// first channel and the tile's first pixel.
typedef struct sn_f32_pointwise_tile {
    const float *input;
    /// The group's packed panels (see `sn_f32_pointwise_pack`): the first `panel_wide` panels are
    /// `panel_narrow + 1` channels wide, the others `panel_narrow`.
    const float *weights;
    const float *bias;
    float *output;
    /// NULL unless the epilogue adds a residual.
    const float *residual;
    size_t begin;
    size_t end;
    size_t panel_narrow;
    size_t panel_wide;
    size_t vectors;
    size_t tail;
} sn_f32_pointwise_tile;

/// What stays the same over every tile of one call.
typedef struct sn_f32_pointwise_params {
    ptrdiff_t inputs;
    ptrdiff_t input_plane_stride;
    ptrdiff_t output_plane_stride;
    ptrdiff_t residual_plane_stride;
    sn_pointwise_epilogue epilogue;
} sn_f32_pointwise_params;

typedef void (*sn_f32_pointwise_ukernel_fn)(const sn_f32_pointwise_tile *tile, const sn_f32_pointwise_params *params);

/// How one instruction set runs pointwise convolutions.
typedef struct sn_f32_pointwise_config {
    /// XNNPACK-style micro-kernel name, e.g. "sn_f32_pointwise_ukernel_8x48__avx512f".
    const char *name;
    /// Features the micro-kernel needs.
    sn_cpu_features required;
    sn_f32_pointwise_ukernel_fn ukernel;
    /// Output channels per register tile (the packed panels' height) and pixels per full register tile.
    int mr;
    int nr;
    /// Floats per vector: pixels are covered by whole vectors (planes have room up to a multiple of 16).
    int lanes;
    /// Pixels after the last whole vector computed as channel lanes instead of one more, mostly empty, vector
    /// (0: always one more vector).
    int tail_max;
    sn_weights_layout layout;
} sn_f32_pointwise_config;

/// A grouped 1x1 convolution (BatchNorm folded in), for output channels `output_begin ..< output_end`:
///
///     out[o][p] = epilogue(bias[o] + sum_{i < inputs_per_group} W[o][i] * input[group(o) * inputs_per_group + i][p])
///
/// with group(o) = o / outputs_per_group, for pixels `0 ..< pixels` (any count). Every plane (input, output,
/// residual) must have room for `pixels` rounded up to a multiple of 16 floats: the kernels may compute those
/// padding pixels like real ones (and write them), or leave them alone.
typedef struct sn_pointwise_args {
    const float *input;
    ptrdiff_t input_plane_stride;
    float *output;
    ptrdiff_t output_plane_stride;
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
} sn_pointwise_args;

/// Packs `weights` (`[outputs][inputs_per_group]`, row-major) and `bias` (`[outputs]`) for `config`. Within each
/// group, output channels form ceil(outputs_per_group / mr) panels as equal as they can be (10 channels in panels of
/// 8: 5 + 5; 20: 7 + 7 + 6; wider panels first), in channel order; a panel of `n` channels from channel `first`
/// starts at float `first * inputs_per_group` and stores, for each input `i`, its `n` weights side by side:
/// `panel[i * n + r] = W[first + r][i]`. A register tile then reads its weights from one stream, and the weights of
/// its channels for one input are one vector load, which lets a few pixels past the last whole vector be computed
/// as lanes of one FMA. Sets `*error` (when not NULL) and returns NULL unless `outputs_per_group` divides
/// `outputs`, the sizes are positive and the configuration's `mr` is 1 ... SN_POINTWISE_MAX_PANEL_ROWS.
sn_packed_weights *sn_f32_pointwise_pack(const sn_f32_pointwise_config *config, const float *weights, const float *bias,
                                         ptrdiff_t outputs, ptrdiff_t inputs_per_group, ptrdiff_t outputs_per_group,
                                         int *error);

/// The driver: checks `args`, the configuration and the packed weights (layout and shape), then runs the
/// configuration's micro-kernel over every group, pixel tile and panel.
int sn_f32_pointwise(const sn_f32_pointwise_config *config, const sn_packed_weights *packed, const sn_pointwise_args *args);

// MARK: - int8 pointwise (grouped 1x1) convolution: u8 activations, s8 weights, exact int32 sums

/// The int8 activation layout, "channel blocks" (oneDNN's nChw4c, XNNPACK's packed-input of its VNNI GEMMs):
///
///     block b = channels 4b ... 4b + 3;  byte (b * block_stride) + 4 * p + (c % 4) is channel c at pixel p
///
/// i.e. `[C / 4][pixels][4]` u8. Why: `vpdpbusd` multiplies 4 adjacent u8 by 4 adjacent s8 and adds them into one
/// int32 lane. With the pixels in the lanes (as the fp32 kernels have them) each 32-bit lane must hold 4 input
/// channels of one pixel: in this layout one 64-byte load is 16 pixels x 4 channels, ready for `vpdpbusd` against
/// a broadcast quad of weights, with no shuffle in the inner loop. Planar `[C][P]` u8 would need 4 loads and 4-6
/// byte interleaves per quad (or an interleaving copy of every input tile, 10-40% of the work at these K).
/// The kernel's 4-row output tile is stored into one block as 16 pixels x 4 channels (3 shifts, 3 ors).
///
/// Groups: a group's channels start on a block boundary ("group-padded"): a group of K channels takes
/// ceil(K / 4) blocks, its last one with 4 - K % 4 padding slots whose codes are don't-care (the packed weights
/// are zero there). Where every group's count is a multiple of 4 (every unit output: stage widths are multiples
/// of 4g) this is the plain `[C/4][P][4]` layout; the bottleneck tensors (0.5x g3: 10 channels per group) are
/// group-padded. Pixels: each block has room for the pixels rounded up to 16 (`block_stride >= 4 *
/// roundup(pixels, 16)` bytes); kernels may compute and write the padding pixels.
///
/// How the other int8 operators use it:
///   - depthwise 3x3 (written: `sn_qu8_depthwise3x3` below): per *output* block, the 4 source channels are
///     gathered (one load + one in-lane `vpshufb` per source slot) into a zero-point-bordered scratch block;
///     one in-lane `vpshufb` of a load from it puts each (pixel, channel)'s 3 horizontal taps side by side, so
///     one `vpdpbusd` adds a kernel row (AVX2: `vpmaddwd` on the even/odd bytes); the packs give natural order.
///   - channel shuffle: folded into the depthwise as above, at block granularity (whole-block stores; the
///     expand's `input_zero_points` are the shuffled order).
///   - residual add: fused in the expand's epilogue (below); the residual is the unit's input in the same layout,
///     and may be the output itself (each block is read before it is written).
///   - stride-2 concat: the branch's expand writes from block `in / 4` (in: the unit's input channels) and the
///     3x3 average pool writes blocks `0 ..< in / 4`; pooling is per channel, so it runs on blocks as on planes
///     (16 pixels x 4 channels per vector; stride 2 takes every other dword, one `vpermt2d`). Unit outputs are
///     whole blocks per group in every configuration (stage widths are multiples of 4g), so the next compress
///     reads them as they are. To plan for: `in` must be a multiple of 4 (stage widths are; the stems of 0.5x, 1x,
///     1.5x, 2x are 12, 16, 24, 48, but e.g. 0.75x g3's would be 18), and the first unit's expand writes
///     out - stem channels in g groups, not a multiple of 4 per group for 0.5x g8 (176 / 8 = 22) and some
///     fractional scales: there its group-padded output needs one repacking copy into the concat (176 x 784
///     bytes) or a dense-output variant of the kernel. 0.5x g3 (36 per group) and 1x g3 (72) need neither.
///
/// Arithmetic (Weights/README.md "int8 files"; the executable spec is `QuantizedReferenceNetwork.pointwise`),
/// for real output o of group g, pixel p:
///
///     acc = sum_k W[o][k] * (x[g K + k][p] - z_in[g K + k])                       exact int32
///     v   = fma(float(acc), multiplier[o], bias[o])
///     v   = fma(float(r[o][p] - residual_zero_point), residual_scale, v)        (with a residual)
///     v   = max(v, 0)                                                           (with ReLU)
///     q   = clamp(rint(v * inv_out[o]) + zero_out[o], 0, 255)                    rint: half to even
///
/// The kernels compute `acc` as `sum_k W x + term[o]`, `term[o] = -sum_k W[o][k] z_in[k]` (packed). Bound:
/// |sum_k W x| <= 255 * 127 * K and |term| <= the same, K <= 1152 (the widest reduction, 2x g1 stage 4) gives
/// 2 * 37.3 M, far inside int32, so no sum can overflow (`SN_QU8_POINTWISE_MAX_INPUTS` is enforced).

/// The largest inputs per group the packer accepts: 255 * 127 * 2 * 32768 < 2^31, so sums cannot overflow.
#define SN_QU8_POINTWISE_MAX_INPUTS 32768

/// One group and pixel tile: padded output rows `begin ..< end` of the group (multiples of 4) at `vectors` vectors
/// of the configuration's `lanes` pixels. Pointers are at the group's first block / padded row and the tile's
/// first pixel.
typedef struct sn_qu8_pointwise_tile {
    const uint8_t *input;
    const int8_t *weights;
    /// Per padded output row of the group.
    const int32_t *terms;
    const float *multipliers;
    const float *bias;
    const float *inv_out;
    const int32_t *zero_out;
    /// -zero_out and 255 - zero_out as floats: the clamp before rounding (see templates/qu8_pointwise.h).
    const float *low;
    const float *high;
    uint8_t *output;
    /// NULL without a residual.
    const uint8_t *residual;
    size_t begin;
    size_t end;
    size_t vectors;
    /// Pixels after the vectors (at most the configuration's `tail_max`), computed with the output rows in the
    /// lanes instead of as one more, mostly empty, pixel vector.
    size_t tail;
} sn_qu8_pointwise_tile;

typedef struct sn_qu8_pointwise_params {
    /// Quads of inputs per group, ceil(inputs_per_group / 4) (the input blocks of a group).
    ptrdiff_t quads;
    /// Padded output rows per group, roundup(outputs_per_group, 4): where the group's panels lie.
    ptrdiff_t rows;
    /// Bytes between consecutive blocks.
    ptrdiff_t input_block_stride;
    ptrdiff_t output_block_stride;
    ptrdiff_t residual_block_stride;
    int32_t residual_zero_point;
    float residual_scale;
    int relu;
    /// Every output zero point is 0, and so is the residual's when there is one (set by the driver).
    int zero_points_zero;
} sn_qu8_pointwise_params;

typedef void (*sn_qu8_pointwise_ukernel_fn)(const sn_qu8_pointwise_tile *tile, const sn_qu8_pointwise_params *params);

typedef struct sn_qu8_pointwise_config {
    /// e.g. "sn_qu8_pointwise_ukernel_8x48__avx512vnni".
    const char *name;
    sn_cpu_features required;
    sn_qu8_pointwise_ukernel_fn ukernel;
    /// Padded output rows per register tile (4 or 8; the packed panels' height) and pixels per register tile.
    int mr;
    int nr;
    /// Pixels per vector.
    int lanes;
    /// Pixels after the last whole vector computed with the rows in the lanes (0: always one more vector).
    int tail_max;
    sn_weights_layout layout;
} sn_qu8_pointwise_config;

/// An int8 grouped 1x1 convolution on channel-block tensors (see above), for padded output channels
/// `output_begin ..< output_end` (padded channel of real output o of group g: `g * roundup(M, 4) + o % M`, M the
/// outputs per group; both bounds multiples of 4; `0 ..< groups * roundup(M, 4)` is everything).
typedef struct sn_qu8_pointwise_args {
    /// Group g's inputs are blocks `g * ceil(K / 4) ...` from `input`.
    const uint8_t *input;
    ptrdiff_t input_block_stride;
    /// Group g's outputs are blocks `g * roundup(M, 4) / 4 ...` from `output`.
    uint8_t *output;
    ptrdiff_t output_block_stride;
    /// NULL, or a u8 tensor indexed like `output` (it may be `output` itself, with the same stride).
    const uint8_t *residual;
    ptrdiff_t residual_block_stride;
    int32_t residual_zero_point;
    float residual_scale;
    int relu;
    ptrdiff_t inputs_per_group;
    ptrdiff_t outputs_per_group;
    ptrdiff_t output_begin;
    ptrdiff_t output_end;
    ptrdiff_t pixels;
} sn_qu8_pointwise_args;

/// Packs one layer for `config`: `weights` s8 `[outputs][inputs_per_group]` (-128 refused: the scheme's codes are
/// symmetric), `input_zero_points` u8 `[groups * inputs_per_group]` (each input's own; pass the shuffled order for
/// an expand), and per output `multipliers` (input scale x weight scale) and `bias`; the output map is per tensor
/// (`output_scales`/`output_zero_points` of 1 element, `per_channel_output` 0) or per output. Stores
/// `inv_out = 1 / scale` (what the reference multiplies by). NULL and `*error` on bad arguments.
sn_packed_weights *sn_qu8_pointwise_pack(const sn_qu8_pointwise_config *config, const int8_t *weights,
                                         const uint8_t *input_zero_points, const float *multipliers, const float *bias,
                                         const float *output_scales, const uint8_t *output_zero_points,
                                         int per_channel_output, ptrdiff_t outputs, ptrdiff_t inputs_per_group,
                                         ptrdiff_t outputs_per_group, int *error);

/// The driver: checks everything (NULL pointers, sizes, strides large enough for the pixels rounded up to 16,
/// ranges, the packed layout and shape) and returns an error code instead of running on bad arguments.
int sn_qu8_pointwise(const sn_qu8_pointwise_config *config, const sn_packed_weights *packed, const sn_qu8_pointwise_args *args);

/// Every int8 pointwise configuration compiled in, best first (the last is portable): `index` 0 ..<
/// `sn_qu8_pointwise_config_count()`, NULL outside. Tests run each whose `required` features the CPU has.
size_t sn_qu8_pointwise_config_count(void);
const sn_qu8_pointwise_config *sn_qu8_pointwise_config_at(size_t index);

/// The first configuration whose required features are all in `features`.
const sn_qu8_pointwise_config *sn_qu8_pointwise_select(sn_cpu_features features);

/// Bytes of one channel block holding `pixels` pixels: 4 x (pixels rounded up to 16), a multiple of 64.
ptrdiff_t sn_qu8_block_bytes(ptrdiff_t pixels);

// MARK: - int8 depthwise 3x3 convolution with the channel shuffle folded in

/// How the int8 depthwise works (the layout is the pointwise one above): per *output* block, i.e. per 4 channels
/// of the expand's (shuffled) input, the micro-kernel gathers its 4 source channels (from up to 4 input blocks,
/// anywhere in the compress output) into a zero-bordered scratch block, `[(H + 2) x (W + 2)][4]` bytes, the border
/// filled with each source channel's zero point (so padding taps add exactly nothing), then runs the 9 taps over
/// that block and stores whole output blocks. Why per output block: the stores are whole 64-byte vectors (a
/// per-source scatter would write single bytes, 4 per pixel), and the gather costs one pass over the input,
/// `H x W x 4` bytes per block, against 9 taps of compute; the padded copy also removes every edge case from the
/// tap loop (as `sn_copy_with_zero_border` does for fp32).
///
/// Arithmetic, channel c (Weights/README.md "int8 files"; `QuantizedReferenceNetwork.depthwise`):
///
///     acc = sum_taps W[c][t] * (x - z_c)         exact int32, computed as sum_t W x + term, term = -z_c sum_t W
///     v   = fma(float(acc), multiplier[c], bias[c])
///     q   = clamp(rint(v * inv_out[c]) + zero_out[c], 0, 255)
///
/// The taps of one (pixel, channel) are put side by side one kernel row at a time: a 128-bit lane loaded from the
/// scratch block holds 4 pixels x 4 channels, and one in-lane byte transpose (`vpshufb`) makes each int32 lane
/// one channel's 4 consecutive pixels ("window"), so that one `vpdpbusd` against (w0, w1, w2, 0) adds a kernel
/// row of 4 exact u8 x s8 products (AVX2: two `vpmaddwd` on the even/odd bytes), and at stride 1 the same window
/// against (0, w0, w1, w2) adds the next output pixel's; 3 dot products per output. Two output rows per
/// iteration share their windows (templates/qu8_dwconv3x3.h).
typedef struct sn_qu8_dwconv_block {
    /// The input tensor (group-padded blocks of the compress output) and its block stride.
    const uint8_t *input;
    ptrdiff_t input_block_stride;
    /// This output block's packed record (kernels_internal.h, `sn_qu8_dw_record`).
    const void *record;
    uint8_t *output;
    ptrdiff_t height;
    ptrdiff_t width;
    int stride;
    /// `sn_qu8_depthwise3x3_scratch_bytes(height, width)` bytes.
    uint8_t *scratch;
} sn_qu8_dwconv_block;

typedef void (*sn_qu8_dwconv_ukernel_fn)(const sn_qu8_dwconv_block *block);

typedef struct sn_qu8_depthwise_config {
    /// e.g. "sn_qu8_dwconv3x3_ukernel_16__avx512vnni" (16 pixels x 4 channels per vector).
    const char *name;
    sn_cpu_features required;
    sn_qu8_dwconv_ukernel_fn ukernel;
    /// Pixels per vector.
    int lanes;
    sn_weights_layout layout;
} sn_qu8_depthwise_config;

/// An int8 3x3 depthwise convolution, padding 1, stride 1 or 2, on group-padded channel blocks, writing the
/// shuffled output (group-padded the same way: `groups` groups of `channels / groups`) for output blocks
/// `block_begin ..< block_end` (all: `0 ..< groups * ceil(channels / groups / 4)`).
typedef struct sn_qu8_depthwise_args {
    const uint8_t *input;
    ptrdiff_t input_block_stride;
    uint8_t *output;
    ptrdiff_t output_block_stride;
    ptrdiff_t height;
    ptrdiff_t width;
    int stride;
    ptrdiff_t block_begin;
    ptrdiff_t block_end;
    /// Owned by the calling thread, at least `scratch_bytes` = `sn_qu8_depthwise3x3_scratch_bytes(height, width)`.
    uint8_t *scratch;
    ptrdiff_t scratch_bytes;
} sn_qu8_depthwise_args;

/// Bytes of scratch one call needs (0 for bad sizes).
ptrdiff_t sn_qu8_depthwise3x3_scratch_bytes(ptrdiff_t height, ptrdiff_t width);

/// Packs one layer: `weights` s8 `[channels][3][3]` (-128 refused), per channel `input_zero_points` (the compress
/// output's), `multipliers` (input scale x weight scale), `bias`, `output_scales`, `output_zero_points` (all in
/// the depthwise's own channel order), and `destinations` (`[channels]`, a permutation: where channel c goes in
/// the expand's input, e.g. megvii's `(c % g) * (C / g) + c / g`). The input is group-padded in `input_groups`
/// groups (the compress's: 1 in the first unit of Megvii's stage 2, whose compress is not grouped), the output
/// in `groups`. NULL and `*error` on bad arguments.
sn_packed_weights *sn_qu8_depthwise3x3_pack(const sn_qu8_depthwise_config *config, const int8_t *weights,
                                            const uint8_t *input_zero_points, const float *multipliers, const float *bias,
                                            const float *output_scales, const uint8_t *output_zero_points,
                                            const ptrdiff_t *destinations, ptrdiff_t channels, ptrdiff_t input_groups,
                                            ptrdiff_t groups, int *error);

/// The driver: checks everything and returns an error code instead of running on bad arguments.
int sn_qu8_depthwise3x3(const sn_qu8_depthwise_config *config, const sn_packed_weights *packed,
                        const sn_qu8_depthwise_args *args);

/// Every int8 depthwise configuration compiled in, best first (the last is portable).
size_t sn_qu8_depthwise_config_count(void);
const sn_qu8_depthwise_config *sn_qu8_depthwise_config_at(size_t index);
const sn_qu8_depthwise_config *sn_qu8_depthwise_select(sn_cpu_features features);

// MARK: - int8 pooling, quantize, dense

/// The small int8 operators around the convolutions, on the channel-block layout above (`[C/4][pixels][4]` u8,
/// `block_stride >= sn_qu8_block_bytes(pixels)`). The first four take the cap `variant` (their micro-kernel is the
/// best one within `sn_cpu_features_detected() & sn_kernels_cap(variant)`) and return
/// SN_KERNELS_UNSUPPORTED_VARIANT when the CPU lacks what the cap needs. Every result is bit-exact with the
/// scheme's formulas (`QuantizedReferenceNetwork.run`, `ActivationQuantization.quantize`): the same float
/// operations in the same order, `rint` rounding half to even (as `cvtps2dq`). Inputs are finite.
///
/// Quantization everywhere: `q = clamp(rint(v * inv_scale) + zero_point, 0, 255)`, `inv_scale = 1 / scale`
/// computed in float by the caller.

/// fp32 planes `[channels][plane_stride]` to u8 channel blocks, pixels `pixel_begin ..< pixel_end` only (other
/// bytes untouched). Padding lanes of the last block (channels % 4 != 0) get `zero_point`.
int sn_qu8_quantize_planes(const float *input, ptrdiff_t plane_stride, ptrdiff_t channels, ptrdiff_t pixel_begin,
                           ptrdiff_t pixel_end, float inv_scale, uint8_t zero_point, uint8_t *output,
                           ptrdiff_t block_stride, sn_kernel_variant variant);

/// 3x3 average pool, stride 2, padding 1, divisor always 9 (PyTorch's AvgPool2d(3, 2, 1), count_include_pad),
/// requantized: `sum` = sum over the window's taps inside the plane of `(x - input_zero_point)` (int32),
/// `v = (float)sum * step` (`step = in_scale / 9` in float, by the caller), `q` as above with `inv_out` and
/// `output_zero_point`. The input is `height x width` pixels per block (row-major), the output
/// `((height - 1) / 2 + 1) x ((width - 1) / 2 + 1)`. Blocks `block_begin ..< block_end`: output block i is input
/// block i pooled, all 4 lanes (padding lanes too).
int sn_qu8_avgpool3x3s2(const uint8_t *input, ptrdiff_t input_block_stride, ptrdiff_t height, ptrdiff_t width,
                        uint8_t *output, ptrdiff_t output_block_stride, ptrdiff_t block_begin, ptrdiff_t block_end,
                        uint8_t input_zero_point, float step, float inv_out, uint8_t output_zero_point,
                        sn_kernel_variant variant);

/// Global average pool of dense blocks (ceil(channels / 4) of them):
/// `features[c] = ((float)sum_p (x - zero_point)) * scale / (float)pixels`, in that order (multiply, then divide).
/// With `codes` not NULL also `codes[c]` = the features quantized with `codes_inv_scale`, `codes_zero_point`.
/// Bytes of a block past `pixels` pixels are ignored. `pixels` >= 1.
int sn_qu8_global_average_pool(const uint8_t *input, ptrdiff_t block_stride, ptrdiff_t channels, ptrdiff_t pixels,
                               uint8_t zero_point, float scale, float *features, uint8_t *codes,
                               float codes_inv_scale, uint8_t codes_zero_point, sn_kernel_variant variant);

/// Copies a group-padded tensor (`groups` groups of `per_group` channels, each group starting on a block: group
/// g's channel i is slot `g * roundup(per_group, 4) + i`) into dense blocks: real channel `g * per_group + i` goes
/// to channel `channel_offset + g * per_group + i` of `output`. Touches only those output lanes (the stride-2
/// concat when the branch is not block-aligned, e.g. 0.5x g8: 8 groups of 22 after a 16-channel pool part). `input`
/// and `output` must not overlap. Runs the best micro-kernel within the enabled features (it takes no cap).
int sn_qu8_copy_channels(const uint8_t *input, ptrdiff_t input_block_stride, ptrdiff_t groups, ptrdiff_t per_group,
                         uint8_t *output, ptrdiff_t output_block_stride, ptrdiff_t channel_offset, ptrdiff_t pixels);

/// One tile of the int8 dense layer: `panels` consecutive panels of 16 padded output rows (see
/// `SN_LAYOUT_QU8_DENSE_QUADS_16`); the rows `begin ..< end` of the tile (counted from its first row) are stored.
typedef struct sn_qu8_dense_tile {
    /// u8 `[inputs]`: quads `0 ..< full_quads` are read from it, then (when `quads > full_quads`) `tail_quad`,
    /// the last `inputs % 4` bytes zero-extended to 4.
    const uint8_t *input;
    size_t full_quads;
    size_t quads;
    uint32_t tail_quad;
    /// The tile's first panel; panel j is `j * quads * 64` bytes further.
    const int8_t *weights;
    /// Per padded row, from the tile's first row.
    const int32_t *terms;
    const float *multipliers;
    const float *bias;
    /// At the tile's first row.
    float *output;
    size_t panels;
    size_t begin;
    size_t end;
} sn_qu8_dense_tile;

typedef void (*sn_qu8_dense_ukernel_fn)(const sn_qu8_dense_tile *tile);

typedef struct sn_qu8_dense_config {
    /// e.g. "sn_qu8_dense_ukernel_128__avx512vnni" (padded output rows per register tile).
    const char *name;
    sn_cpu_features required;
    sn_qu8_dense_ukernel_fn ukernel;
    /// Rows per tile: a multiple of 16 (whole panels).
    int mr;
    sn_weights_layout layout;
} sn_qu8_dense_config;

/// Packs the classifier for `config`: `weights` s8 `[outputs][inputs]` row-major (-128 refused), the input's zero
/// point (folded into per-row terms, `-z * sum_k W[o][k]`), `multipliers` and `bias` per output. NULL and `*error`
/// on bad arguments.
sn_packed_weights *sn_qu8_dense_pack(const sn_qu8_dense_config *config, const int8_t *weights, uint8_t input_zero_point,
                                     const float *multipliers, const float *bias, ptrdiff_t outputs, ptrdiff_t inputs,
                                     int *error);

/// `logits[o] = fmaf((float)acc, multipliers[o], bias[o])`, `acc = sum_k W[o][k] * (x[k] - input_zero_point)` exact
/// int32, for `o` in `output_begin ..< output_end` (any bounds); `input` u8 `[inputs]` contiguous (nothing past it
/// is read).
int sn_qu8_dense(const sn_qu8_dense_config *config, const sn_packed_weights *packed, const uint8_t *input,
                 float *output, ptrdiff_t output_begin, ptrdiff_t output_end);

/// Every int8 dense configuration compiled in, best first (the last is portable).
size_t sn_qu8_dense_config_count(void);
const sn_qu8_dense_config *sn_qu8_dense_config_at(size_t index);
const sn_qu8_dense_config *sn_qu8_dense_select(sn_cpu_features features);

/// The name of the micro-kernel `op` (0 quantize, 1 average pool, 2 global average pool, 3 channel copy) runs under the cap
/// `variant` on this CPU, e.g. "sn_qu8_avgpool3x3s2_ukernel_16__avx512bw" (NULL for an unknown op or a cap the
/// CPU cannot run). For reports and benchmarks.
const char *sn_qu8_small_op_kernel_name(int op, sn_kernel_variant variant);

// MARK: - Depthwise 3x3 convolution

/// Row length, in floats, of the zero-bordered scratch plane for inputs `width` pixels wide.
ptrdiff_t sn_padded_row(ptrdiff_t width);

/// Floats of scratch one `height x width` plane needs (rows of `sn_padded_row(width)`, plus slack after the last).
ptrdiff_t sn_padded_plane_count(ptrdiff_t height, ptrdiff_t width);

/// Copies a `height x width` plane to position (1, 1) of `scratch` (rows of `sn_padded_row(width)` floats) and
/// zeroes everything around it: exactly the padding a 3x3 window needs, without clearing the whole scratch.
void sn_copy_with_zero_border(const float *source, ptrdiff_t height, ptrdiff_t width, float *scratch);

/// A 3x3 depthwise convolution, padding 1, stride 1 or 2 (BatchNorm folded in), for channels
/// `channel_begin ..< channel_end`. Channel `c` is read from input plane `c` and written, row-major
/// `output_height x output_width`, to output plane `destinations[c]` (how the channel shuffle is applied).
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
    /// `sn_padded_plane_count(height, width)` floats, owned by the calling thread (only the padded-plane
    /// configurations use it).
    float *scratch;
    /// 1 or 2.
    int stride;
} sn_depthwise_args;

/// One channel, already copied into a zero-bordered scratch plane: `padded[(y + 1) * padded_row + x + 1]` is input
/// pixel (y, x). Writes `output_height x output_width` floats.
typedef struct sn_f32_dwconv_plane {
    const float *padded;
    ptrdiff_t padded_row;
    /// The nine taps, row-major.
    const float *taps;
    float bias;
    float *output;
    ptrdiff_t output_height;
    ptrdiff_t output_width;
    int stride;
} sn_f32_dwconv_plane;

typedef void (*sn_f32_dwconv_plane_ukernel_fn)(const sn_f32_dwconv_plane *plane);

/// A kernel that reads the planes in place (masked loads standing in for the padding) for a range of channels.
typedef void (*sn_f32_dwconv_chw_ukernel_fn)(const sn_depthwise_args *args);

/// How one instruction set runs depthwise convolutions: exactly one of the two kernels is set.
typedef struct sn_f32_depthwise_config {
    const char *name;
    sn_cpu_features required;
    /// Per channel on a zero-bordered copy of the plane (the driver copies it into `scratch`).
    sn_f32_dwconv_plane_ukernel_fn plane_ukernel;
    /// Every channel of the range in place.
    sn_f32_dwconv_chw_ukernel_fn chw_ukernel;
} sn_f32_depthwise_config;

int sn_f32_depthwise3x3(const sn_f32_depthwise_config *config, const sn_depthwise_args *args);

// MARK: - Dense (fully connected) layer

/// A fully connected layer for outputs `output_begin ..< output_end`: `y[o] = bias[o] + sum_i weights[o][i] * x[i]`.
typedef struct sn_dense_args {
    const float *input;
    float *output;
    /// `[outputs][inputs]` (`sn_f32_dense`).
    const float *weights;
    /// `[outputs][inputs]` binary16 bit patterns, converted exactly to fp32 as they are read (`sn_f16_dense`).
    const uint16_t *half_weights;
    /// NULL for no bias.
    const float *bias;
    ptrdiff_t inputs;
    ptrdiff_t output_begin;
    ptrdiff_t output_end;
} sn_dense_args;

/// Outputs `0 ..< rows` (rows <= the configuration's mr): `output[r] = (bias ? bias[r] : 0) + weights[r * inputs ...] . input`.
typedef void (*sn_f32_dense_ukernel_fn)(size_t rows, size_t inputs, const float *input, const float *weights,
                                        const float *bias, float *output);

typedef struct sn_f32_dense_config {
    const char *name;
    sn_cpu_features required;
    sn_f32_dense_ukernel_fn ukernel;
    int mr;
} sn_f32_dense_config;

int sn_f32_dense(const sn_f32_dense_config *config, const sn_dense_args *args);

/// The same with binary16 weights (`half_weights`): the fp32 arithmetic of `sn_f32_dense` on weights kept at 2 bytes.
typedef void (*sn_f16_dense_ukernel_fn)(size_t rows, size_t inputs, const float *input, const uint16_t *weights,
                                        const float *bias, float *output);

typedef struct sn_f16_dense_config {
    const char *name;
    sn_cpu_features required;
    sn_f16_dense_ukernel_fn ukernel;
    int mr;
} sn_f16_dense_config;

int sn_f16_dense(const sn_f16_dense_config *config, const sn_dense_args *args);

// MARK: - Stem: dense 3x3 stride-2 convolution

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
    ptrdiff_t outputs;
    ptrdiff_t row_begin;
    ptrdiff_t row_end;
    /// Output row y is stored at row `y - output_row_base` of each output plane, so a band of rows can be
    /// written to a small buffer (0: the planes hold every row).
    ptrdiff_t output_row_base;
} sn_conv3x3s2_args;

/// Output rows `y ..< y + rows` (rows 1, or up to the configuration's `mr_rows` where every window of them lies
/// inside the plane) of every output channel, the window's rows `first_row ... last_row` (0 ... 2). `weights` is
/// `[input_channels][3][3][outputs]`, then `bias` `[outputs]`.
typedef void (*sn_f32_conv3x3s2_ukernel_fn)(const sn_conv3x3s2_args *args, const float *weights, const float *bias,
                                            ptrdiff_t y, int rows, int first_row, int last_row);

typedef struct sn_f32_conv3x3s2_config {
    const char *name;
    sn_cpu_features required;
    sn_f32_conv3x3s2_ukernel_fn ukernel;
    /// Output rows one call may take (1 or 2).
    int mr_rows;
    sn_weights_layout layout;
} sn_f32_conv3x3s2_config;

/// Packs `weights` (`[outputs][input_channels][3][3]`) and `bias` for `config`. NULL (and `*error`) on bad sizes.
sn_packed_weights *sn_f32_conv3x3s2_pack(const sn_f32_conv3x3s2_config *config, const float *weights, const float *bias,
                                         ptrdiff_t outputs, ptrdiff_t input_channels, int *error);

int sn_f32_conv3x3s2(const sn_f32_conv3x3s2_config *config, const sn_packed_weights *packed, const sn_conv3x3s2_args *args);

// MARK: - 3x3 stride-2 pooling

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

/// Window rows a pooled output row has besides its middle one (bits of `sn_f32_pool_ukernel_fn`'s `rows`).
#define SN_POOL_ROW_ABOVE 1
#define SN_POOL_ROW_BELOW 2

/// Every output of row `y`, every channel of the range, `nr` outputs at a time: `rows` says which of the window's
/// outer rows lie inside the plane (SN_POOL_ROW_ABOVE | SN_POOL_ROW_BELOW).
typedef void (*sn_f32_pool_ukernel_fn)(const sn_pool3x3s2_args *args, ptrdiff_t y, int rows);

typedef struct sn_f32_pool_config {
    const char *name;
    sn_cpu_features required;
    sn_f32_pool_ukernel_fn ukernel;
    /// Outputs of a row per register block.
    int nr;
} sn_f32_pool_config;

int sn_f32_pool3x3s2(const sn_f32_pool_config *config, const sn_pool3x3s2_args *args);

// MARK: - Configuration sets

/// One configuration per operator: what a model runs.
typedef struct sn_f32_kernel_set {
    const sn_f32_pointwise_config *pointwise;
    const sn_f32_depthwise_config *depthwise;
    const sn_f32_dense_config *dense;
    const sn_f16_dense_config *dense_f16;
    const sn_f32_conv3x3s2_config *conv3x3s2;
    const sn_f32_pool_config *pool;
} sn_f32_kernel_set;

/// Per operator, the first configuration (best first) whose required features are all in `features`; the
/// portable ones require none, so every field is set.
sn_f32_kernel_set sn_f32_kernels_select(sn_cpu_features features);

/// The set the cap `variant` pins: `sn_f32_kernels_select(detected & cap)`. SN_KERNELS_UNSUPPORTED_VARIANT (and
/// `*set` untouched) when the CPU lacks what the cap needs (`sn_kernels_cap_requires`).
int sn_f32_kernels_for_variant(sn_kernel_variant variant, sn_f32_kernel_set *set);

/// The set every default call runs: `sn_f32_kernels_select(sn_cpu_features_enabled())`, chosen once.
const sn_f32_kernel_set *sn_f32_kernels_default(void);

#ifdef __cplusplus
}
#endif

#endif
