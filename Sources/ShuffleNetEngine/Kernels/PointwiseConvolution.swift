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
///     out[o][p] = epilogue(bias[o] + sum_i weights[o][i] * in[group(o) * K + i][p]),   K = inputs / groups
///
/// Within a group this is a matrix product `W_g (outputs/g x K) * X_g (K x pixels)`. The C micro-kernels
/// (`sn_pointwise` in CKernels) keep a block of 8 output channels x 48 pixels (AVX-512; 6 x 16 with AVX2) in
/// registers and stream over K, so every input vector they load feeds eight FMAs; pixel tiles sized to keep K x tile
/// inputs in L1 are the outermost loop, and the next block's weights are prefetched. The weights are packed once,
/// here, into panels of output channels as high as the variant's register block (`sn_pointwise_panel_rows`: 8 for
/// AVX-512, 6 for AVX2, 4 for the portable variant; `sn_pointwise_pack_weights`): one weight stream per block, and the
/// pixels past the last multiple of 16 (1 of 49 at 7x7, 4 of 196 at 14x14) computed as channel lanes instead of a
/// mostly empty pixel vector. Planes are channel-major with a stride, so concatenation is just an output pointer
/// offset.
package struct PointwiseConvolution: Sendable {
    package let inputChannels: Int
    package let outputChannels: Int
    package let groups: Int
    /// The weights in the kernels' panel layout, packed `panelRows` high for the active kernel variant (the
    /// constructor's `[outputChannels][inputChannels / groups]` when that does not match the shape: `run` then
    /// refuses to compute). Every variant accepts any panel height, so `run(on:)` works with all of them.
    let packedWeights: [Float]
    let panelRows: Int
    /// How many weights the constructor was given.
    let weightCount: Int
    package let bias: [Float]

    /// `weights` is `[outputChannels][inputChannels / groups]`. `panelRows` (1 ... 8) is the height of the weight
    /// panels to pack; the default is what the active kernel variant's register blocks are made for.
    package init(weights: [Float], bias: [Float], inputChannels: Int, outputChannels: Int, groups: Int, panelRows: Int? = nil) {
        self.bias = bias
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.groups = groups
        weightCount = weights.count
        let panelRows = panelRows ?? sn_pointwise_panel_rows(KernelVariant.active.cValue)
        self.panelRows = panelRows
        var packed = weights
        let k = groups >= 1 ? inputChannels / groups : 0
        if groups >= 1, outputChannels % groups == 0, inputChannels % groups == 0, !weights.isEmpty,
           weights.count == outputChannels * k {
            let code = weights.withUnsafeBufferPointer { w in
                packed.withUnsafeMutableBufferPointer { p in
                    sn_pointwise_pack_weights(w.baseAddress!, outputChannels, k, outputChannels / groups, panelRows, p.baseAddress!)
                }
            }
            if code != SN_KERNELS_OK { packed = weights }
        }
        packedWeights = packed
    }

    /// Runs on `pixels` pixels per plane: every plane (input, output, residual) must have room for `pixels`
    /// rounded up to a multiple of 16 floats, and what the output holds past `pixels` is unspecified.
    /// Only output channels in `outputs` are computed (default: all), so threads can split the work.
    /// Uses `KernelVariant.active`; arguments that do not fit the convolution are a bug in the caller and stop
    /// the program (`KernelCallError.trapOnFailure`; the throwing `run(on:...)` reports them instead).
    package func run(input: UnsafePointer<Float>, inputPlaneStride: Int,
                    output: UnsafeMutablePointer<Float>, outputPlaneStride: Int,
                    pixels: Int, epilogue: PointwiseEpilogue, outputs: Range<Int>? = nil, variant: KernelVariant = .active) {
        KernelCallError.trapOnFailure { () throws(KernelCallError) in try run(on: variant, input: input, inputPlaneStride: inputPlaneStride, output: output,
                 outputPlaneStride: outputPlaneStride, pixels: pixels, epilogue: epilogue, outputs: outputs) }
    }

    /// `run` on an explicitly chosen kernel variant (tests and benchmarks compare them).
    package func run(on variant: KernelVariant, input: UnsafePointer<Float>, inputPlaneStride: Int,
                    output: UnsafeMutablePointer<Float>, outputPlaneStride: Int,
                    pixels: Int, epilogue: PointwiseEpilogue, outputs: Range<Int>? = nil) throws(KernelCallError) {
        let name = "pointwise convolution"
        try KernelCallError.require(groups >= 1 && inputChannels % groups == 0 && outputChannels % groups == 0 && outputChannels > 0,
                                    kernel: name, "\(inputChannels) inputs and \(outputChannels) outputs do not split into \(groups) groups")
        let k = inputChannels / groups
        try KernelCallError.require(weightCount == outputChannels * k && bias.count == outputChannels, kernel: name,
                                    "\(weightCount) weights and \(bias.count) biases for \(outputChannels) outputs x \(k) inputs per group")
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
        args.panel_rows = panelRows
        switch epilogue {
        case .linear: args.epilogue = SN_EPILOGUE_LINEAR
        case .relu: args.epilogue = SN_EPILOGUE_RELU
        case .addResidualThenReLU(let residual, let stride):
            args.epilogue = SN_EPILOGUE_ADD_RESIDUAL_RELU
            args.residual = residual
            args.residual_plane_stride = stride
        }
        try KernelCallError.run(args, weights: packedWeights, at: \.weights, bias: bias, at: \.bias, on: variant, kernel: name) {
            sn_pointwise_variant($0, $1)
        }
    }
}
