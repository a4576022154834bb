import CKernels

/// One int8 pointwise micro-kernel configuration compiled into CKernels (`sn_qu8_pointwise_config_at`), e.g.
/// `sn_qu8_pointwise_ukernel_8x48__avx512vnni`. Tests run every one the CPU has and record a skip for the others.
package struct QuantizedPointwiseKernel: @unchecked Sendable, CustomStringConvertible, Hashable {
    // A pointer into CKernels' immutable static table.
    let config: UnsafePointer<sn_qu8_pointwise_config>

    /// Every configuration compiled in, best first (the last is portable).
    package static var all: [QuantizedPointwiseKernel] {
        (0..<sn_qu8_pointwise_config_count()).compactMap { sn_qu8_pointwise_config_at($0).map(QuantizedPointwiseKernel.init) }
    }

    /// What a default call would run: the first configuration within the enabled features (`SHUFFLENET_KERNELS` caps them).
    package static var selected: QuantizedPointwiseKernel { QuantizedPointwiseKernel(config: sn_qu8_pointwise_select(sn_cpu_features_enabled())) }

    /// The first configuration within the detected features under `variant`'s cap (what a model pinned to
    /// `variant` runs).
    package static func selected(for variant: KernelVariant) -> QuantizedPointwiseKernel {
        QuantizedPointwiseKernel(config: sn_qu8_pointwise_select(sn_cpu_features_detected() & sn_kernels_cap(variant.cValue)))
    }

    package var name: String { String(cString: config.pointee.name) }
    package var description: String { name }
    /// Whether this CPU (and OS) has every feature the micro-kernel needs.
    package var isSupported: Bool { config.pointee.required & ~sn_cpu_features_detected() == 0 }
}

/// An int8 grouped 1x1 convolution on u8 activations in channel blocks (`[C/4][pixels][4]`, each group starting
/// on a block; shufflenet_kernels.h explains the layout and why), s8 weights packed once for one micro-kernel, the
/// scheme's exact arithmetic (Weights/README.md "int8 files"; `ReferenceKernels.quantizedPointwise` is its naive
/// twin). Not wired into the model yet.
package struct QuantizedPointwiseConvolution: @unchecked Sendable {
    package let kernel: QuantizedPointwiseKernel
    package let outputs: Int
    package let inputsPerGroup: Int
    package let groups: Int
    let packed: PackedWeights

    package var outputsPerGroup: Int { outputs / groups }
    /// Output channels per group rounded up to 4: the channel slots a group takes in the output blocks.
    package var paddedOutputsPerGroup: Int { (outputsPerGroup + 3) / 4 * 4 }

    /// `weights` `[outputs][inputsPerGroup]` in -127...127; `inputZeroPoints` `[groups * inputsPerGroup]`;
    /// `multipliers` (input scale x weight scale) and `bias` per output; `outputScales`/`outputZeroPoints` of one
    /// element (per tensor) or one per output.
    package init(kernel: QuantizedPointwiseKernel, weights: [Int8], inputZeroPoints: [UInt8], multipliers: [Float],
                 bias: [Float], outputScales: [Float], outputZeroPoints: [UInt8], outputs: Int, inputsPerGroup: Int,
                 groups: Int) throws(KernelCallError) {
        let name = "int8 pointwise packing"
        let perChannel = outputScales.count != 1
        guard groups >= 1, outputs >= 1, outputs % groups == 0, inputsPerGroup >= 1, weights.count == outputs * inputsPerGroup,
              inputZeroPoints.count == groups * inputsPerGroup, multipliers.count == outputs, bias.count == outputs,
              outputScales.count == outputZeroPoints.count, !perChannel || outputScales.count == outputs else {
            throw .invalidArguments(kernel: name, reason: "the arrays do not fit \(outputs) outputs, \(groups) groups of \(inputsPerGroup) inputs")
        }
        var error: Int32 = 0
        let pointer = sn_qu8_pointwise_pack(kernel.config, weights, inputZeroPoints, multipliers, bias, outputScales,
                                            outputZeroPoints, perChannel ? 1 : 0, outputs, inputsPerGroup, outputs / groups, &error)
        guard let pointer else { throw .invalidArguments(kernel: name, reason: "rejected by the C packer (code \(error))") }
        self.kernel = kernel
        self.outputs = outputs
        self.inputsPerGroup = inputsPerGroup
        self.groups = groups
        packed = PackedWeights(pointer)
    }

    /// Runs on `pixels` pixels; every block stride must be at least `ChannelBlocks.blockBytes(pixels)`.
    /// `outputSlots` (default all) is a range of padded output channels, bounds multiples of 4. With `kernel`, runs
    /// that configuration instead (its layout must be the packed one, else `.layoutMismatch`).
    package func run(input: UnsafePointer<UInt8>, inputBlockStride: Int, output: UnsafeMutablePointer<UInt8>,
                     outputBlockStride: Int, residual: (codes: UnsafePointer<UInt8>, blockStride: Int, zeroPoint: UInt8, scale: Float)? = nil,
                     relu: Bool, pixels: Int, outputSlots: Range<Int>? = nil,
                     kernel other: QuantizedPointwiseKernel? = nil) throws(KernelCallError) {
        let slots = outputSlots ?? 0..<(groups * paddedOutputsPerGroup)
        var args = sn_qu8_pointwise_args(
            input: input, input_block_stride: inputBlockStride, output: output, output_block_stride: outputBlockStride,
            residual: residual?.codes, residual_block_stride: residual?.blockStride ?? 0,
            residual_zero_point: Int32(residual?.zeroPoint ?? 0), residual_scale: residual?.scale ?? 0, relu: relu ? 1 : 0,
            inputs_per_group: inputsPerGroup, outputs_per_group: outputsPerGroup, output_begin: slots.lowerBound,
            output_end: slots.upperBound, pixels: pixels)
        let config = (other ?? kernel).config
        let code = sn_qu8_pointwise(config, packed.pointer, &args)
        switch code {
        case SN_KERNELS_OK: return
        case SN_KERNELS_LAYOUT_MISMATCH:
            throw .invalidArguments(kernel: (other ?? kernel).name, reason: "layout mismatch: the weights were packed for \(kernel.name) (or another shape)")
        default: throw .invalidArguments(kernel: (other ?? kernel).name, reason: "rejected by the C driver (code \(code))")
        }
    }
}

/// The int8 activation layout of the pointwise kernels: `[C/4][pixels][4]` u8, each group's channels starting on a
/// block (a group of K channels takes ceil(K / 4) blocks), each block `blockBytes(pixels)` long.
package enum ChannelBlocks {
    /// Bytes of one block: 4 per pixel, pixels rounded up to 16.
    package static func blockBytes(_ pixels: Int) -> Int { sn_qu8_block_bytes(pixels) }

    /// Planar `[groups * perGroup][pixels]` codes into group-padded blocks (padding slots and pixels get `fill`).
    package static func pack(_ planar: [UInt8], groups: Int, perGroup: Int, pixels: Int, fill: UInt8 = 0) -> [UInt8] {
        let blocks = (perGroup + 3) / 4, stride = blockBytes(pixels)
        var out = [UInt8](repeating: fill, count: groups * blocks * stride)
        for g in 0..<groups {
            for i in 0..<perGroup {
                let slot = g * blocks * 4 + i
                for p in 0..<pixels { out[slot / 4 * stride + 4 * p + slot % 4] = planar[(g * perGroup + i) * pixels + p] }
            }
        }
        return out
    }

    /// The inverse of `pack`: the real channels, planar.
    package static func unpack(_ blocked: [UInt8], groups: Int, perGroup: Int, pixels: Int) -> [UInt8] {
        let blocks = (perGroup + 3) / 4, stride = blockBytes(pixels)
        var out = [UInt8](repeating: 0, count: groups * perGroup * pixels)
        for g in 0..<groups {
            for i in 0..<perGroup {
                let slot = g * blocks * 4 + i
                for p in 0..<pixels { out[(g * perGroup + i) * pixels + p] = blocked[slot / 4 * stride + 4 * p + slot % 4] }
            }
        }
        return out
    }
}
