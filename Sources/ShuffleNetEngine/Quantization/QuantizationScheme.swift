/// The int8 scheme of shufflenet's quantized files (Weights/README.md, "int8 files"), in one place.
///
/// - Activations between layers are `u8` with an affine map, `real = scale * (q - zeroPoint)`. Tensors after a
///   ReLU have zero point 0; the depthwise output (BatchNorm, no ReLU) is signed and gets a zero point inside
///   0...255. A unit's output (which the residual add, the average-pool shortcut, the concat and the next unit
///   read) has one map for all channels. Inside a unit each channel has its own map, where that is free: the
///   compress output feeds only the depthwise convolution, whose multiplier is per channel anyway; the
///   depthwise output feeds only the expand convolution, whose weights absorb each input channel's scale
///   before they are quantized (`W'[o][j] = W[o][j] * s[j]`, the shuffle's permutation applied to the scales
///   once), its zero points subtracted per input. Measured on Megvii's checkpoints (Scripts/int8_study.md),
///   these per-channel maps take fp32 agreement on unseen photos from 86% to 91%; the channel shuffle stays a
///   free permutation of codes.
/// - Weights are `s8`, symmetric, one scale per output channel (`real = scale * q`, `q` in -127...127): BatchNorm
///   is folded first, and its per-channel factors differ by orders of magnitude in depthwise layers, which one
///   scale per tensor would crush. -128 is never used, so `|q| <= 127` bounds every accumulator (see
///   `QuantizedConvolution.accumulatorBound`).
/// - Accumulation is exact in `Int32`; each output is then mapped back in fp32:
///   `v = fma(Float(acc), inputScale * weightScale[o], bias[o])` (plus the residual, `fma(Float(r - z_r), s_r, v)`),
///   ReLU where the network has one, and `quantize(v)` below. The bias stays fp32 (the folded BatchNorm shift,
///   bias-corrected for the weights' rounding: `b[o] -= sum_i (deq(Wq)[o][i] - W[o][i]) * E[x_i]` with the
///   calibration photos' mean of each input channel), so channels whose BatchNorm gamma is about 0 need no
///   int32 bias that could overflow.
/// - conv1 stays fp32 (its 8-bit weights were the largest single error, the input having no mean subtracted;
///   6% of the work at 1x): its output is quantized after the max pool (quantization is monotonic, so pooling
///   before or after gives the same `u8`). The global average pool gives fp32 features (what `embed` writes),
///   quantized again for the `s8` classifier (4x smaller, no measurable accuracy cost).
public struct ActivationQuantization: Sendable, Equatable, Codable {
    /// Real value of one step.
    public let scale: Float
    /// The `u8` value that stands for real 0.
    public let zeroPoint: UInt8

    /// The map as stored; `scale` must be positive and finite.
    public init(scale: Float, zeroPoint: UInt8) {
        self.scale = scale
        self.zeroPoint = zeroPoint
    }

    /// The map covering `lower...upper` (widened to include 0, so that 0, the padding and the ReLU floor, is
    /// exact), with 255 steps.
    package init(lower: Float, upper: Float) {
        let lo = min(lower, 0), hi = max(upper, 0)
        let scale = hi > lo ? (hi - lo) / 255 : 1
        self.scale = scale
        zeroPoint = UInt8(clamping: Int((-lo / scale).rounded(.toNearestOrEven)))
    }

    /// `clamp(round(v / scale) + zeroPoint, 0, 255)`, rounding half to even, as the kernels do (`cvtps2dq`).
    @inline(__always)
    package func quantize(_ v: Float) -> UInt8 {
        let q = (v * (1 / scale)).rounded(.toNearestOrEven) + Float(zeroPoint)
        return UInt8(max(0, min(255, q)))
    }

    /// The real value of `q`.
    @inline(__always)
    package func dequantize(_ q: UInt8) -> Float { scale * Float(Int32(q) - Int32(zeroPoint)) }
}

/// A convolution with `s8` weights, one symmetric scale per output channel, and an fp32 bias (BatchNorm folded
/// in before quantizing).
public struct QuantizedConvolution: Sendable, Equatable {
    /// `[outputs][perOutput]`, row-major, each in -127...127.
    public let weights: [Int8]
    /// `[outputs]`, positive.
    public let weightScales: [Float]
    /// `[outputs]`.
    public let bias: [Float]

    /// Outputs (rows of `weights`).
    public var outputs: Int { bias.count }

    /// The stored form; shapes and ranges are checked by `QuantizedWeights`.
    public init(weights: [Int8], weightScales: [Float], bias: [Float]) {
        self.weights = weights
        self.weightScales = weightScales
        self.bias = bias
    }

    /// Quantizes folded fp32 weights `[outputs][perOutput]`: scale `max|w| / 127` per output (1 for an all-zero
    /// row), values rounded half to even.
    package init(folded weights: [Float], bias: [Float]) {
        let outputs = bias.count
        let perOutput = outputs > 0 ? weights.count / outputs : 0
        var q = [Int8](repeating: 0, count: weights.count)
        var scales = [Float](repeating: 1, count: outputs)
        for o in 0..<outputs {
            let row = weights[(o * perOutput)..<((o + 1) * perOutput)]
            let largest = row.reduce(Float(0)) { max($0, abs($1)) }
            let scale = largest > 0 ? largest / 127 : 1
            scales[o] = scale
            for (i, w) in row.enumerated() {
                q[o * perOutput + i] = Int8(max(-127, min(127, (w / scale).rounded(.toNearestOrEven))))
            }
        }
        self.init(weights: q, weightScales: scales, bias: bias)
    }

    /// The largest `|accumulator|` a layer reducing over `reduction` inputs can reach: `255 * 127 * reduction`
    /// (`u8` inputs minus a zero point span at most 255; weights at most 127). The widest reduction of the
    /// paper's configurations (s up to 2) is the first pointwise layer of stage 4's stride-1 units at 2x, g = 1
    /// (1152 inputs): 37.3 M, far inside `Int32` (2147 M); a reduction would need 66,000 inputs to overflow
    /// (`QuantizationTests` checks every configuration against this and runs worst-case weights and inputs).
    public static func accumulatorBound(reduction: Int) -> Int { 255 * 127 * reduction }
}

/// The quantized layers of one bottleneck unit (Fig. 2) and the maps of the activations it writes.
public struct QuantizedUnit: Sendable, Equatable {
    /// 1x1 GConv + BN (+ ReLU).
    public let compress: QuantizedConvolution
    /// 3x3 DWConv + BN, `[channels][9]`.
    public let depthwise: QuantizedConvolution
    /// 1x1 GConv + BN, added to the input (stride 1) or concatenated after the pooled input (stride 2). Its weight
    /// scales include the scales of its input channels: `real = weightScale[o] * sum_j Wq[o][j] * (q_j - z_j)`.
    public let expand: QuantizedConvolution
    /// After compress and its ReLU, one map per channel (zero point 0).
    public let compressOutput: [ActivationQuantization]
    /// After the depthwise convolution (signed), one map per channel in the depthwise layer's channel order (before
    /// the shuffle). `expand`'s weights already include these scales.
    public let depthwiseOutput: [ActivationQuantization]
    /// The unit's output (after the add and ReLU, or the concat).
    public let output: ActivationQuantization

    /// The stored form.
    public init(compress: QuantizedConvolution, depthwise: QuantizedConvolution, expand: QuantizedConvolution,
                compressOutput: [ActivationQuantization], depthwiseOutput: [ActivationQuantization], output: ActivationQuantization) {
        self.compress = compress
        self.depthwise = depthwise
        self.expand = expand
        self.compressOutput = compressOutput
        self.depthwiseOutput = depthwiseOutput
        self.output = output
    }
}
