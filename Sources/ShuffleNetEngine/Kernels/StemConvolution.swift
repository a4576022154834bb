import CKernels

/// The stem of the network (Table 1's "Conv1": 3x3, stride 2, padding 1, 3 input channels), BatchNorm folded into
/// `weights` / `bias`, ReLU fused. `sn_conv3x3s2` in CKernels reads the input planes as they are: every stride-2
/// input vector it builds (masked loads leave out the padding) feeds up to 24 output channels held in registers, so
/// neither an im2col matrix (1.3 MB for a 224x224 input) nor a zero-bordered copy of the input is written.
package struct StemConvolution: Sendable {
    package let inputChannels: Int
    package let outputChannels: Int
    /// `[outputChannels][inputChannels][3][3]`.
    package let weights: [Float]
    package let bias: [Float]
    /// The variant whose micro-kernel the weights are packed for.
    package let kernels: KernelVariant
    /// `weights` reordered once to `[inputChannels][3][3][outputChannels]` and `bias`, in the packed-weights object
    /// the kernels read (nil when they do not fit the shape or the CPU cannot run `kernels`).
    let packed: PackedWeights?

    package init(weights: [Float], bias: [Float], inputChannels: Int, outputChannels: Int, kernels: KernelVariant = .active) {
        self.weights = weights
        self.bias = bias
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernels = kernels
        var packed: PackedWeights?
        if let set = kernels.kernelSet, inputChannels > 0, outputChannels > 0, weights.count == outputChannels * 9 * inputChannels,
           bias.count == outputChannels {
            let pointer = weights.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    sn_f32_conv3x3s2_pack(set.conv3x3s2, w.baseAddress, b.baseAddress, outputChannels, inputChannels, nil)
                }
            }
            packed = pointer.map(PackedWeights.init)
        }
        self.packed = packed
    }

    package static func outputSize(_ n: Int) -> Int { (n - 1) / 2 + 1 }

    /// Output rows in `rows` (default: all) of every channel, written as rows of `outputSize(width)` floats into
    /// planes `outputPlaneStride` apart, row y at row `y - outputRowBase` of its plane (so a band of rows can go to
    /// a small buffer); threads can split the rows. Uses the variant the weights were packed for; arguments that do not fit
    /// the convolution stop the program (`KernelCallError.trapOnFailure`; the throwing `run(on:...)` reports them).
    /// `input` holds `inputChannels` planes of `height x width` floats, `inputPlaneStride` apart.
    package func run(input: UnsafePointer<Float>, inputPlaneStride: Int, height: Int, width: Int,
                    output: UnsafeMutablePointer<Float>, outputPlaneStride: Int, rows: Range<Int>? = nil,
                    outputRowBase: Int = 0, variant: KernelVariant? = nil) {
        KernelCallError.trapOnFailure { () throws(KernelCallError) in try run(on: variant ?? kernels, input: input, inputPlaneStride: inputPlaneStride, height: height, width: width,
                 output: output, outputPlaneStride: outputPlaneStride, rows: rows, outputRowBase: outputRowBase) }
    }

    /// `run` on an explicitly chosen kernel variant (tests and benchmarks compare them).
    package func run(on variant: KernelVariant, input: UnsafePointer<Float>, inputPlaneStride: Int, height: Int,
                    width: Int, output: UnsafeMutablePointer<Float>, outputPlaneStride: Int, rows: Range<Int>? = nil,
                    outputRowBase: Int = 0) throws(KernelCallError) {
        let name = "3x3 stride-2 convolution"
        let set = try KernelCallError.kernelSet(variant, kernel: name)
        try KernelCallError.require(height >= 1 && width >= 1, kernel: name, "empty \(height)x\(width) input")
        try KernelCallError.require(weights.count == outputChannels * inputChannels * 9 && bias.count == outputChannels,
                                    kernel: name, "\(weights.count) weights and \(bias.count) biases for \(outputChannels) outputs x \(inputChannels) inputs x 3 x 3")
        let outH = Self.outputSize(height)
        let range = (rows ?? 0..<outH).clamped(to: 0..<outH)
        var args = sn_conv3x3s2_args()
        args.input = input
        args.input_plane_stride = inputPlaneStride
        args.input_channels = inputChannels
        args.height = height
        args.width = width
        args.output = output
        args.output_plane_stride = outputPlaneStride
        args.outputs = outputChannels
        args.row_begin = range.lowerBound
        args.row_end = range.upperBound
        args.output_row_base = outputRowBase
        guard let packed else { throw .unsupportedVariant(kernels, kernel: name) }
        let code = withExtendedLifetime(packed) { sn_f32_conv3x3s2(set.conv3x3s2, packed.pointer, &args) }
        try KernelCallError.check(code, variant: variant, kernel: name)
    }
}
