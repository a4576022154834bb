import CKernels

/// What happens to a pointwise convolution's result before it is stored: fused so the data is touched once.
package enum PointwiseEpilogue {
    /// `y = conv + bias` (a linear layer, e.g. before a residual add done elsewhere).
    case linear
    /// `y = max(conv + bias, 0)`.
    case relu
    /// `y = max(conv + bias + residual, 0)`: the end of a stride-1 ShuffleNet unit (Fig. 2b).
    case addResidualThenReLU(UnsafePointer<Float>, planeStride: Int)
}

/// A grouped 1x1 convolution on channel planes, with BatchNorm already folded into `weights` and `bias`:
///
///     out[o][p] = epilogue(bias[o] + sum_i weights[o][i] * in[group(o) * K + i][p])
///
/// Within a group this is a matrix product `W_g (outputs/g x K) * X_g (K x pixels)`. The C driver
/// (`sn_f32_pointwise`) runs pixel tiles sized to keep K x tile inputs in L1 outermost, and calls its configuration's
/// micro-kernel on each panel of output channels: `sn_f32_pointwise_ukernel_8x48__avx512f` keeps 8 output channels x
/// 48 pixels in registers and streams over K, so every input vector it loads feeds eight FMAs (6 x 16 with AVX2,
/// 4 x 16 portable). The weights are packed once, here, for the micro-kernel of the variant this convolution is
/// made for (`kernels`): panels as high as its register tile, one weight stream per tile, and the pixels past the
/// last multiple of 16 (1 of 49 at 7x7, 4 of 196 at 14x14) computed as channel lanes instead of a mostly empty
/// pixel vector. Planes are channel-major with a stride, so concatenation is just an output pointer offset.
package struct PointwiseConvolution: Sendable {
    package let inputChannels: Int
    package let outputChannels: Int
    package let groups: Int
    /// The variant whose micro-kernel the weights are packed for: `run(on:)` any other with a different register
    /// tile throws `KernelCallError.layoutMismatch`.
    package let kernels: KernelVariant
    /// The weights and bias in the micro-kernel's panel layout (nil when they do not fit the shape, or the CPU
    /// cannot run `kernels`: `run` then refuses to compute).
    let packed: PackedWeights?
    /// How many weights the constructor was given.
    let weightCount: Int
    package let bias: [Float]

    /// `weights` is `[outputChannels][inputChannels / groups]`. They are packed for `kernels` (default: the active
    /// variant), which must be supported by this CPU for `run` to compute.
    package init(weights: [Float], bias: [Float], inputChannels: Int, outputChannels: Int, groups: Int,
                 kernels: KernelVariant = .active) {
        self.bias = bias
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.groups = groups
        self.kernels = kernels
        weightCount = weights.count
        let k = groups >= 1 ? inputChannels / groups : 0
        var packed: PackedWeights?
        if let set = kernels.kernelSet, groups >= 1, outputChannels % groups == 0, inputChannels % groups == 0, k > 0,
           weights.count == outputChannels * k, bias.count == outputChannels {
            let pointer = weights.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    sn_f32_pointwise_pack(set.pointwise, w.baseAddress, b.baseAddress, outputChannels, k, outputChannels / groups, nil)
                }
            }
            packed = pointer.map(PackedWeights.init)
        }
        self.packed = packed
    }

    /// Runs on `pixels` pixels per plane: every plane (input, output, residual) must have room for `pixels`
    /// rounded up to a multiple of 16 floats, and what the output holds past `pixels` is unspecified.
    /// Only output channels in `outputs` are computed (default: all), so threads can split the work.
    /// Uses the variant the weights were packed for unless `variant` says otherwise; arguments that do not fit the convolution are a bug in the
    /// caller and stop the program (`KernelCallError.trapOnFailure`; the throwing `run(on:...)` reports them instead).
    package func run(input: UnsafePointer<Float>, inputPlaneStride: Int,
                    output: UnsafeMutablePointer<Float>, outputPlaneStride: Int,
                    pixels: Int, epilogue: PointwiseEpilogue, outputs: Range<Int>? = nil, variant: KernelVariant? = nil) {
        KernelCallError.trapOnFailure { () throws(KernelCallError) in try run(on: variant ?? kernels, input: input, inputPlaneStride: inputPlaneStride, output: output,
                 outputPlaneStride: outputPlaneStride, pixels: pixels, epilogue: epilogue, outputs: outputs) }
    }

    /// `run` on an explicitly chosen kernel variant (tests check that one whose layout differs is refused).
    package func run(on variant: KernelVariant, input: UnsafePointer<Float>, inputPlaneStride: Int,
                    output: UnsafeMutablePointer<Float>, outputPlaneStride: Int,
                    pixels: Int, epilogue: PointwiseEpilogue, outputs: Range<Int>? = nil) throws(KernelCallError) {
        let name = "pointwise convolution"
        let set = try KernelCallError.kernelSet(variant, kernel: name)
        try KernelCallError.require(groups >= 1 && inputChannels % groups == 0 && outputChannels % groups == 0 && outputChannels > 0
                                    && inputChannels > 0,
                                    kernel: name, "\(inputChannels) inputs and \(outputChannels) outputs do not split into \(groups) groups")
        let k = inputChannels / groups
        try KernelCallError.require(weightCount == outputChannels * k && bias.count == outputChannels, kernel: name,
                                    "\(weightCount) weights and \(bias.count) biases for \(outputChannels) outputs x \(k) inputs per group")
        guard let packed else { throw .unsupportedVariant(kernels, kernel: name) }
        let range = (outputs ?? 0..<outputChannels).clamped(to: 0..<outputChannels)
        var args = sn_pointwise_args()
        args.input = input
        args.input_plane_stride = inputPlaneStride
        args.output = output
        args.output_plane_stride = outputPlaneStride
        args.inputs_per_group = k
        args.outputs_per_group = outputChannels / groups
        args.output_begin = range.lowerBound
        args.output_end = range.upperBound
        args.pixels = max(pixels, 0)
        switch epilogue {
        case .linear: args.epilogue = SN_EPILOGUE_LINEAR
        case .relu: args.epilogue = SN_EPILOGUE_RELU
        case .addResidualThenReLU(let residual, let stride):
            args.epilogue = SN_EPILOGUE_ADD_RESIDUAL_RELU
            args.residual = residual
            args.residual_plane_stride = stride
        }
        let code = withExtendedLifetime(packed) { sn_f32_pointwise(set.pointwise, packed.pointer, &args) }
        try KernelCallError.check(code, variant: variant, kernel: name)
    }
}
