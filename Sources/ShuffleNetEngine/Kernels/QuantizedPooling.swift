import CKernels

/// The small int8 operators on channel blocks (`[C/4][pixels][4]` u8, see `ChannelBlocks`) around the
/// convolutions: quantizing fp32 planes, the stride-2 units' 3x3 average pool, the global average pool and the
/// concat's channel copy (shufflenet_kernels.h, "int8 pooling, quantize, dense"). Bit-exact with the scheme
/// (`QuantizedReferenceNetwork.run`); `QuantizedReferenceKernels` holds their naive twins. Each runs the best
/// micro-kernel within `variant`'s cap on this CPU, and throws `.unsupportedVariant` for a cap the CPU cannot run.
package enum QuantizedPooling {
    /// The micro-kernel `quantize` (0), `average3x3Stride2` (1) or `globalAverage` (2) runs under `variant`'s cap
    /// on this CPU (nil when the CPU cannot run the cap).
    package static func kernelName(operator op: Int, variant: KernelVariant = .active) -> String? {
        sn_qu8_small_op_kernel_name(Int32(op), variant.cValue).map { String(cString: $0) }
    }

    /// fp32 planes `[channels][planeStride]` to channel blocks, pixels `pixels` only: `map.quantize` of each value;
    /// the padding lanes of the last block (channels % 4 != 0) get `map.zeroPoint`.
    package static func quantize(planes: UnsafePointer<Float>, planeStride: Int, channels: Int, pixels: Range<Int>,
                                 map: ActivationQuantization, output: UnsafeMutablePointer<UInt8>, blockStride: Int,
                                 variant: KernelVariant = .active) throws(KernelCallError) {
        let code = sn_qu8_quantize_planes(planes, planeStride, channels, pixels.lowerBound, pixels.upperBound, 1 / map.scale,
                                          map.zeroPoint, output, blockStride, variant.cValue)
        try KernelCallError.check(code, variant: variant, kernel: "int8 quantize")
    }

    /// The stride-2 unit's shortcut: 3x3 average pool, stride 2, padding 1, divisor 9, requantized from `inputMap`
    /// to `outputMap`, for blocks `blocks` (output block i is input block i).
    package static func average3x3Stride2(input: UnsafePointer<UInt8>, inputBlockStride: Int, height: Int, width: Int,
                                          inputMap: ActivationQuantization, output: UnsafeMutablePointer<UInt8>,
                                          outputBlockStride: Int, outputMap: ActivationQuantization, blocks: Range<Int>,
                                          variant: KernelVariant = .active) throws(KernelCallError) {
        let code = sn_qu8_avgpool3x3s2(input, inputBlockStride, height, width, output, outputBlockStride, blocks.lowerBound,
                                       blocks.upperBound, inputMap.zeroPoint, inputMap.scale / 9, 1 / outputMap.scale,
                                       outputMap.zeroPoint, variant.cValue)
        try KernelCallError.check(code, variant: variant, kernel: "int8 average pool 3x3 stride 2")
    }

    /// The global average pool of dense blocks: `features[c]` (fp32, as `embed` writes them) and, with `codes`,
    /// the features quantized with `codesMap` (the classifier's input).
    package static func globalAverage(input: UnsafePointer<UInt8>, blockStride: Int, channels: Int, pixels: Int,
                                      map: ActivationQuantization, features: UnsafeMutablePointer<Float>,
                                      codes: UnsafeMutablePointer<UInt8>?, codesMap: ActivationQuantization,
                                      variant: KernelVariant = .active) throws(KernelCallError) {
        let code = sn_qu8_global_average_pool(input, blockStride, channels, pixels, map.zeroPoint, map.scale, features, codes,
                                              1 / codesMap.scale, codesMap.zeroPoint, variant.cValue)
        try KernelCallError.check(code, variant: variant, kernel: "int8 global average pool")
    }

    /// Copies a group-padded tensor (`groups` groups of `perGroup` channels, each starting on a block) into dense
    /// blocks from channel `channelOffset`; touches only those output lanes.
    package static func copyChannels(input: UnsafePointer<UInt8>, inputBlockStride: Int, groups: Int, perGroup: Int,
                                     output: UnsafeMutablePointer<UInt8>, outputBlockStride: Int, channelOffset: Int,
                                     pixels: Int) throws(KernelCallError) {
        let code = sn_qu8_copy_channels(input, inputBlockStride, groups, perGroup, output, outputBlockStride, channelOffset, pixels)
        try KernelCallError.check(code, variant: .generic, kernel: "int8 channel copy")
    }
}
