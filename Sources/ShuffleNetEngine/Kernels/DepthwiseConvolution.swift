import CKernels

/// A 3x3 depthwise convolution with padding 1 and stride 1 or 2, BatchNorm folded into `weights` / `bias`.
///
/// Channel `c` is written to output plane `destinations[c]`: a depthwise conv treats every channel alike,
/// so the channel shuffle of the unit (Sec. 3.1) is applied here, by where the result is stored, at no cost.
///
/// The AVX-512 micro-kernel (`sn_f32_dwconv3x3_ukernel_chw16__avx512f` in CKernels) reads the planes in place, masked
/// loads standing in for the padding, 16 output pixels per vector; with the AVX2 and portable ones the driver
/// (`sn_f32_depthwise3x3`) first copies each plane into a zero-bordered scratch plane (hence `scratch`), so that
/// their 9 taps need no bounds checks.
package struct DepthwiseConvolution3x3: Sendable {
    package let channels: Int
    package let stride: Int
    /// `[channels][3][3]`.
    package let weights: [Float]
    package let bias: [Float]
    package let destinations: [Int]

    package init(weights: [Float], bias: [Float], channels: Int, stride: Int, destinations: [Int]? = nil) {
        self.weights = weights
        self.bias = bias
        self.channels = channels
        self.stride = stride
        self.destinations = destinations ?? Array(0..<channels)
    }

    package static func outputSize(_ n: Int, stride: Int) -> Int { (n - 1) / stride + 1 }

    /// Floats of scratch `run` needs for a `height x width` input.
    package static func scratchCount(height: Int, width: Int) -> Int { sn_padded_plane_count(height, width) }

    /// Only channels in `channelRange` are computed (default: all), so threads can split the work; each
    /// thread needs its own `scratch`. Uses `KernelVariant.active`; arguments that do not fit the
    /// convolution stop the program (`KernelCallError.trapOnFailure`; the throwing `run(on:...)` reports them).
    package func run(input: UnsafePointer<Float>, inputPlaneStride: Int, height: Int, width: Int,
                    output: UnsafeMutablePointer<Float>, outputPlaneStride: Int, scratch: UnsafeMutablePointer<Float>,
                    channelRange: Range<Int>? = nil, variant: KernelVariant = .active) {
        KernelCallError.trapOnFailure { () throws(KernelCallError) in try run(on: variant, input: input, inputPlaneStride: inputPlaneStride, height: height, width: width,
                 output: output, outputPlaneStride: outputPlaneStride, scratch: scratch, channelRange: channelRange) }
    }

    /// `run` on an explicitly chosen kernel variant (tests and benchmarks compare them).
    package func run(on variant: KernelVariant, input: UnsafePointer<Float>, inputPlaneStride: Int, height: Int, width: Int,
                    output: UnsafeMutablePointer<Float>, outputPlaneStride: Int, scratch: UnsafeMutablePointer<Float>,
                    channelRange: Range<Int>? = nil) throws(KernelCallError) {
        let name = "3x3 depthwise convolution"
        let set = try KernelCallError.kernelSet(variant, kernel: name)
        try KernelCallError.require(stride == 1 || stride == 2, kernel: name, "stride \(stride), expected 1 or 2")
        try KernelCallError.require(height >= 1 && width >= 1, kernel: name, "empty \(height)x\(width) input")
        try KernelCallError.require(weights.count == 9 * channels && bias.count == channels && destinations.count == channels,
                                    kernel: name, "\(weights.count) weights, \(bias.count) biases, \(destinations.count) destinations for \(channels) channels")
        let range = (channelRange ?? 0..<channels).clamped(to: 0..<channels)
        var args = sn_depthwise_args()
        args.input = input
        args.input_plane_stride = inputPlaneStride
        args.height = height
        args.width = width
        args.output = output
        args.output_plane_stride = outputPlaneStride
        args.channel_begin = range.lowerBound
        args.channel_end = range.upperBound
        args.scratch = scratch
        args.stride = Int32(stride)
        let code = weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                destinations.withUnsafeBufferPointer { d in
                    args.weights = w.baseAddress
                    args.bias = b.baseAddress
                    args.destinations = d.baseAddress
                    return sn_f32_depthwise3x3(set.depthwise, &args)
                }
            }
        }
        try KernelCallError.check(code, variant: variant, kernel: name)
    }
}
