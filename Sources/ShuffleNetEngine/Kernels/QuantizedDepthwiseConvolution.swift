import CKernels

/// One int8 depthwise micro-kernel configuration compiled into CKernels (`sn_qu8_depthwise_config_at`), e.g.
/// `sn_qu8_dwconv3x3_ukernel_16__avx512vnni`. Tests run every one the CPU has and record a skip for the others.
package struct QuantizedDepthwiseKernel: @unchecked Sendable, CustomStringConvertible, Hashable {
    // A pointer into CKernels' immutable static table.
    let config: UnsafePointer<sn_qu8_depthwise_config>

    /// Every configuration compiled in, best first (the last is portable).
    package static var all: [QuantizedDepthwiseKernel] {
        (0..<sn_qu8_depthwise_config_count()).compactMap { sn_qu8_depthwise_config_at($0).map(QuantizedDepthwiseKernel.init) }
    }

    /// What a default call would run: the first configuration within the enabled features.
    package static var selected: QuantizedDepthwiseKernel { QuantizedDepthwiseKernel(config: sn_qu8_depthwise_select(sn_cpu_features_enabled())) }

    /// The first configuration within the detected features under `variant`'s cap (what a model pinned to
    /// `variant` runs).
    package static func selected(for variant: KernelVariant) -> QuantizedDepthwiseKernel {
        QuantizedDepthwiseKernel(config: sn_qu8_depthwise_select(sn_cpu_features_detected() & sn_kernels_cap(variant.cValue)))
    }

    package var name: String { String(cString: config.pointee.name) }
    package var description: String { name }
    /// Whether this CPU (and OS) has every feature the micro-kernel needs.
    package var isSupported: Bool { config.pointee.required & ~sn_cpu_features_detected() == 0 }
}

/// An int8 3x3 depthwise convolution (padding 1, stride 1 or 2) on u8 activations in channel blocks, writing its
/// output already shuffled into the expand's group-padded channel blocks (shufflenet_kernels.h, "int8 depthwise",
/// says how and why); the scheme's exact arithmetic (Weights/README.md "int8 files"; `ReferenceKernels
/// .quantizedDepthwise` is its naive twin). Not wired into the model yet.
package struct QuantizedDepthwiseConvolution: @unchecked Sendable {
    package let kernel: QuantizedDepthwiseKernel
    package let channels: Int
    /// The groups of the input's (the compress output's) and of the output's (the expand input's) block layout.
    package let inputGroups: Int
    package let groups: Int
    let packed: PackedWeights

    /// Output blocks: `groups * ceil(channels / groups / 4)`.
    package var outputBlocks: Int { groups * ((channels / groups + 3) / 4) }

    /// `weights` `[channels][3][3]` in -127...127; per channel (the depthwise's own order) `inputZeroPoints`,
    /// `multipliers` (input scale x weight scale), `bias`, `outputScales`, `outputZeroPoints`; `destinations` where
    /// each channel goes (`ChannelShuffleConvention.destinations`).
    package init(kernel: QuantizedDepthwiseKernel, weights: [Int8], inputZeroPoints: [UInt8], multipliers: [Float], bias: [Float],
                 outputScales: [Float], outputZeroPoints: [UInt8], destinations: [Int], channels: Int, inputGroups: Int,
                 groups: Int) throws(KernelCallError) {
        let name = "int8 depthwise packing"
        guard channels >= 1, groups >= 1, inputGroups >= 1, channels % groups == 0, channels % inputGroups == 0,
              weights.count == channels * 9, inputZeroPoints.count == channels, multipliers.count == channels,
              bias.count == channels, outputScales.count == channels, outputZeroPoints.count == channels,
              destinations.count == channels else {
            throw .invalidArguments(kernel: name, reason: "the arrays do not fit \(channels) channels in \(groups) groups")
        }
        var error: Int32 = 0
        let pointer = sn_qu8_depthwise3x3_pack(kernel.config, weights, inputZeroPoints, multipliers, bias, outputScales,
                                               outputZeroPoints, destinations, channels, inputGroups, groups, &error)
        guard let pointer else { throw .invalidArguments(kernel: name, reason: "rejected by the C packer (code \(error))") }
        self.kernel = kernel
        self.channels = channels
        self.inputGroups = inputGroups
        self.groups = groups
        packed = PackedWeights(pointer)
    }

    /// Scratch bytes one call on a `height x width` input needs (0 for bad sizes).
    package static func scratchBytes(height: Int, width: Int) -> Int { sn_qu8_depthwise3x3_scratch_bytes(height, width) }

    /// Runs on a `height x width` input; block strides at least `ChannelBlocks.blockBytes` of the input's and the
    /// output's pixels; `scratch` of `scratchBytes(height:width:)`. `outputBlocks` (default all) is a range of
    /// output blocks. With `kernel`, runs that configuration instead.
    package func run(input: UnsafePointer<UInt8>, inputBlockStride: Int, output: UnsafeMutablePointer<UInt8>, outputBlockStride: Int,
                     height: Int, width: Int, stride: Int, scratch: UnsafeMutableBufferPointer<UInt8>,
                     blocks: Range<Int>? = nil, kernel other: QuantizedDepthwiseKernel? = nil) throws(KernelCallError) {
        let range = blocks ?? 0..<outputBlocks
        var args = sn_qu8_depthwise_args(
            input: input, input_block_stride: inputBlockStride, output: output, output_block_stride: outputBlockStride,
            height: height, width: width, stride: Int32(clamping: stride), block_begin: range.lowerBound, block_end: range.upperBound,
            scratch: scratch.baseAddress, scratch_bytes: scratch.count)
        let config = (other ?? kernel).config
        let code = sn_qu8_depthwise3x3(config, packed.pointer, &args)
        switch code {
        case SN_KERNELS_OK: return
        case SN_KERNELS_LAYOUT_MISMATCH:
            throw .invalidArguments(kernel: (other ?? kernel).name, reason: "layout mismatch: the weights were packed for \(kernel.name)")
        default: throw .invalidArguments(kernel: (other ?? kernel).name, reason: "rejected by the C driver (code \(code))")
        }
    }
}
