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
    /// `weights` reordered once to `[inputChannels][3][3][outputChannels]`, the layout the kernels read.
    let packedWeights: [Float]

    package init(weights: [Float], bias: [Float], inputChannels: Int, outputChannels: Int) {
        self.weights = weights
        self.bias = bias
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        let taps = 9 * inputChannels
        packedWeights = weights.count == outputChannels * taps
            ? (0..<(taps * outputChannels)).map { i in weights[(i % outputChannels) * taps + i / outputChannels] }
            : []
    }

    package static func outputSize(_ n: Int) -> Int { (n - 1) / 2 + 1 }

    /// Output rows in `rows` (default: all) of every channel, written as rows of `outputSize(width)` floats into
    /// planes `outputPlaneStride` apart, row y at row `y - outputRowBase` of its plane (so a band of rows can go to
    /// a small buffer); threads can split the rows. Uses `KernelVariant.active`; arguments that do not fit
    /// the convolution stop the program (`KernelCallError.trapOnFailure`; the throwing `run(on:...)` reports them).
    /// `input` holds `inputChannels` planes of `height x width` floats, `inputPlaneStride` apart.
    package func run(input: UnsafePointer<Float>, inputPlaneStride: Int, height: Int, width: Int,
                    output: UnsafeMutablePointer<Float>, outputPlaneStride: Int, rows: Range<Int>? = nil,
                    outputRowBase: Int = 0, variant: KernelVariant = .active) {
        KernelCallError.trapOnFailure { () throws(KernelCallError) in try run(on: variant, input: input, inputPlaneStride: inputPlaneStride, height: height, width: width,
                 output: output, outputPlaneStride: outputPlaneStride, rows: rows, outputRowBase: outputRowBase) }
    }

    /// `run` on an explicitly chosen kernel variant (tests and benchmarks compare them).
    package func run(on variant: KernelVariant, input: UnsafePointer<Float>, inputPlaneStride: Int, height: Int,
                    width: Int, output: UnsafeMutablePointer<Float>, outputPlaneStride: Int, rows: Range<Int>? = nil,
                    outputRowBase: Int = 0) throws(KernelCallError) {
        let name = "3x3 stride-2 convolution"
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
        try KernelCallError.run(args, weights: packedWeights, at: \.weights, bias: bias, at: \.bias, on: variant, kernel: name) {
            sn_conv3x3s2_variant($0, $1)
        }
    }
}
