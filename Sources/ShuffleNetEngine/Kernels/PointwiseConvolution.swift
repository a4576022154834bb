import CKernels

/// What happens to a pointwise convolution's result before it is stored: fused so the data is touched once.
public enum PointwiseEpilogue {
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
/// (`sn_pointwise` in CKernels) keep a block of 6 output channels x 64 pixels (AVX-512; 6 x 16 with AVX2) in
/// registers and stream over K, so every input vector they load feeds six FMAs; pixel tiles sized to keep K x tile
/// inputs in L1 are the outermost loop, and the next block's weights are prefetched. Planes are channel-major
/// with a stride, so concatenation is just an output pointer offset.
public struct PointwiseConvolution: Sendable {
    public let inputChannels: Int
    public let outputChannels: Int
    public let groups: Int
    /// `[outputChannels][inputChannels / groups]`.
    public let weights: [Float]
    public let bias: [Float]

    public init(weights: [Float], bias: [Float], inputChannels: Int, outputChannels: Int, groups: Int) {
        self.weights = weights
        self.bias = bias
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.groups = groups
    }

    /// Runs on `pixels` pixels per plane, rounded up to a multiple of 16: every plane (input, output, residual)
    /// must have room for that many floats.
    /// Only output channels in `outputs` are computed (default: all), so threads can split the work.
    /// Uses `KernelVariant.active`; a convolution whose arrays do not match its shape computes nothing (the
    /// throwing `run(on:...)` says why).
    public func run(input: UnsafePointer<Float>, inputPlaneStride: Int,
                    output: UnsafeMutablePointer<Float>, outputPlaneStride: Int,
                    pixels: Int, epilogue: PointwiseEpilogue, outputs: Range<Int>? = nil) {
        try? run(on: .active, input: input, inputPlaneStride: inputPlaneStride, output: output,
                 outputPlaneStride: outputPlaneStride, pixels: pixels, epilogue: epilogue, outputs: outputs)
    }

    /// `run` on an explicitly chosen kernel variant (tests and benchmarks compare them).
    public func run(on variant: KernelVariant, input: UnsafePointer<Float>, inputPlaneStride: Int,
                    output: UnsafeMutablePointer<Float>, outputPlaneStride: Int,
                    pixels: Int, epilogue: PointwiseEpilogue, outputs: Range<Int>? = nil) throws(KernelCallError) {
        let name = "pointwise convolution"
        try KernelCallError.require(groups >= 1 && inputChannels % groups == 0 && outputChannels % groups == 0 && outputChannels > 0,
                                    kernel: name, "\(inputChannels) inputs and \(outputChannels) outputs do not split into \(groups) groups")
        let k = inputChannels / groups
        try KernelCallError.require(weights.count == outputChannels * k && bias.count == outputChannels, kernel: name,
                                    "\(weights.count) weights and \(bias.count) biases for \(outputChannels) outputs x \(k) inputs per group")
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
        args.pixels = roundUpToVector(pixels)
        switch epilogue {
        case .linear: args.epilogue = SN_EPILOGUE_LINEAR
        case .relu: args.epilogue = SN_EPILOGUE_RELU
        case .addResidualThenReLU(let residual, let stride):
            args.epilogue = SN_EPILOGUE_ADD_RESIDUAL_RELU
            args.residual = residual
            args.residual_plane_stride = stride
        }
        try KernelCallError.run(args, weights: weights, at: \.weights, bias: bias, at: \.bias, on: variant, kernel: name) {
            sn_pointwise_variant($0, $1)
        }
    }
}
