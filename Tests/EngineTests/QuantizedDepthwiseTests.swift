import Testing
import ShuffleNetEngine

/// The int8 depthwise kernels with the channel shuffle folded in (`sn_qu8_depthwise3x3`, every configuration
/// compiled in; one the CPU lacks is a cancelled test case that says so) against their naive twin,
/// `ReferenceKernels.quantizedDepthwise`, which is in turn checked against the executable spec
/// (`QuantizedReferenceNetwork.depthwise`, then the shuffle as the reference network does it). Results must be
/// equal, code for code.
@Suite struct QuantizedDepthwiseTests {
    typealias Bytes = QuantizedPointwiseTests.Bytes

    struct Case: CustomStringConvertible {
        var channels: Int, inputGroups: Int, groups: Int, height: Int, width: Int, stride: Int
        var shuffle: ChannelShuffleConvention
        var zeroPoints: Bool
        var description: String {
            "C=\(channels) inputGroups=\(inputGroups) g=\(groups) \(height)x\(width) stride=\(stride) \(shuffle) zeroPoints=\(zeroPoints)"
        }
    }

    static func skipUnlessSupported(_ kernel: QuantizedDepthwiseKernel) throws {
        if !kernel.isSupported {
            try Test.cancel("\(kernel.name) cannot run on this CPU (it lacks the micro-kernel's features); compiled, not run")
        }
    }

    /// Runs one case through `kernel` and the twin; returns the number of differing codes. `blocks` splits the
    /// output blocks into calls of at most that many.
    static func mismatches(_ c: Case, kernel: QuantizedDepthwiseKernel, rng: inout Bytes, blocks split: Int? = nil) throws -> Int {
        let pixels = c.height * c.width
        let oh = (c.height - 1) / c.stride + 1, ow = (c.width - 1) / c.stride + 1, outPixels = oh * ow
        let x = rng.codes(c.channels * pixels), w = rng.weights(c.channels * 9)
        let zin = c.zeroPoints ? rng.codes(c.channels) : [UInt8](repeating: 0, count: c.channels)
        let zout = c.zeroPoints ? rng.codes(c.channels) : [UInt8](repeating: 0, count: c.channels)
        let multipliers = (0..<c.channels).map { _ in Float(rng.next() % 1000 + 1) * 1e-6 }
        let bias = (0..<c.channels).map { _ in Float(Int(rng.next() % 2001) - 1000) * 1e-3 }
        let scales = (0..<c.channels).map { _ in Float(rng.next() % 1000 + 1) * 1e-4 }
        let destinations = c.shuffle.destinations(channels: c.channels, groups: c.groups)
        let expected = ReferenceKernels.quantizedDepthwise(x, height: c.height, width: c.width, stride: c.stride, weights: w,
                                                           inputZeroPoints: zin, multipliers: multipliers, bias: bias,
                                                           outputScales: scales, outputZeroPoints: zout, destinations: destinations)
        let conv = try QuantizedDepthwiseConvolution(kernel: kernel, weights: w, inputZeroPoints: zin, multipliers: multipliers, bias: bias,
                                                     outputScales: scales, outputZeroPoints: zout, destinations: destinations,
                                                     channels: c.channels, inputGroups: c.inputGroups, groups: c.groups)
        // Strides past the minimum, and padding slots / pixels filled with junk, so that nothing relies on them.
        let inStride = ChannelBlocks.blockBytes(pixels) + 64, outStride = ChannelBlocks.blockBytes(outPixels) + 128
        let packedX = ChannelBlocks.pack(x, groups: c.inputGroups, perGroup: c.channels / c.inputGroups, pixels: pixels, fill: 0xa5)
        let inBlocks = packedX.count / ChannelBlocks.blockBytes(pixels)
        var blockedX = [UInt8](repeating: 0x3c, count: inBlocks * inStride)
        for b in 0..<inBlocks {
            let from = b * ChannelBlocks.blockBytes(pixels)
            blockedX.replaceSubrange(b * inStride..<(b * inStride + ChannelBlocks.blockBytes(pixels)), with: packedX[from..<(from + ChannelBlocks.blockBytes(pixels))])
        }
        var out = [UInt8](repeating: 0xcd, count: conv.outputBlocks * outStride)
        var scratch = [UInt8](repeating: 0, count: QuantizedDepthwiseConvolution.scratchBytes(height: c.height, width: c.width))
        let step = split ?? conv.outputBlocks
        try blockedX.withUnsafeBufferPointer { xb throws(KernelCallError) in
            try out.withUnsafeMutableBufferPointer { ob throws(KernelCallError) in
                try scratch.withUnsafeMutableBufferPointer { sb throws(KernelCallError) in
                    for first in Swift.stride(from: 0, to: conv.outputBlocks, by: step) {
                        try conv.run(input: xb.baseAddress!, inputBlockStride: inStride, output: ob.baseAddress!, outputBlockStride: outStride,
                                     height: c.height, width: c.width, stride: c.stride, scratch: sb,
                                     blocks: first..<min(first + step, conv.outputBlocks))
                    }
                }
            }
        }
        // Back to minimal strides, then planar.
        let outBytes = ChannelBlocks.blockBytes(outPixels)
        var dense = [UInt8](repeating: 0, count: conv.outputBlocks * outBytes)
        for b in 0..<conv.outputBlocks { dense.replaceSubrange(b * outBytes..<(b + 1) * outBytes, with: out[(b * outStride)..<(b * outStride + outBytes)]) }
        let got = ChannelBlocks.unpack(dense, groups: c.groups, perGroup: c.channels / c.groups, pixels: outPixels)
        return zip(got, expected).filter { $0 != $1 }.count
    }

    @Test(arguments: QuantizedDepthwiseKernel.all)
    func matchesTheNaiveTwinExactly(kernel: QuantizedDepthwiseKernel) throws {
        try Self.skipUnlessSupported(kernel)
        var rng = Bytes(state: 11)
        var cases = 0
        // Every g with channels per group not a multiple of 4 (10, as 0.5x g3's 30; 6; 5); planes 1 ... 56 (odd and
        // even, every vector remainder); both strides; both shuffles; zero points 0 and random; the input in the
        // compress's groups or in one group (Megvii's first unit of stage 2).
        for groups in [1, 2, 3, 4, 8] {
            for (si, size) in [1, 2, 7, 9, 13, 14, 28, 56].enumerated() {
                for stride in [1, 2] {
                    let perGroup = [10, 6, 5][(si + stride) % 3]
                    let k = cases
                    let c = Case(channels: groups * perGroup, inputGroups: k % 3 == 0 ? 1 : groups, groups: groups, height: size, width: size,
                                 stride: stride, shuffle: k % 2 == 0 ? .megvii : .paper, zeroPoints: (k / 2) % 2 == 0)
                    let bad = try Self.mismatches(c, kernel: kernel, rng: &rng)
                    #expect(bad == 0, "\(kernel.name), \(c): \(bad) codes differ")
                    cases += 1
                }
            }
        }
        // Rectangular planes, and the real layers' channel counts (0.5x g3 and 1x g3).
        for c in [Case(channels: 30, inputGroups: 3, groups: 3, height: 5, width: 17, stride: 1, shuffle: .megvii, zeroPoints: true),
                  Case(channels: 30, inputGroups: 1, groups: 3, height: 17, width: 5, stride: 2, shuffle: .paper, zeroPoints: true),
                  Case(channels: 60, inputGroups: 3, groups: 3, height: 28, width: 28, stride: 2, shuffle: .megvii, zeroPoints: false),
                  Case(channels: 240, inputGroups: 3, groups: 3, height: 7, width: 7, stride: 1, shuffle: .megvii, zeroPoints: false)] {
            let bad = try Self.mismatches(c, kernel: kernel, rng: &rng)
            #expect(bad == 0, "\(kernel.name), \(c): \(bad) codes differ")
            cases += 1
        }
        #expect(cases == 84)
    }

    /// Ranges of output blocks compose to the whole layer (what a thread pool would do).
    @Test(arguments: QuantizedDepthwiseKernel.all)
    func blockRangesComposeToTheWholeLayer(kernel: QuantizedDepthwiseKernel) throws {
        try Self.skipUnlessSupported(kernel)
        var rng = Bytes(state: 5)
        for split in [1, 2, 3] {
            let c = Case(channels: 30, inputGroups: 3, groups: 3, height: 13, width: 13, stride: split == 2 ? 2 : 1,
                         shuffle: .megvii, zeroPoints: true)
            #expect(try Self.mismatches(c, kernel: kernel, rng: &rng, blocks: split) == 0)
        }
    }

    /// The twin computes what the executable spec computes: `QuantizedReferenceNetwork.depthwise` (whose network's
    /// logits equal the NumPy reference's), then the shuffle (codes moved to `destinations`).
    @Test(arguments: [ChannelShuffleConvention.megvii, .paper], [1, 2])
    func twinMatchesTheExecutableSpec(shuffle: ChannelShuffleConvention, stride: Int) {
        var rng = Bytes(state: 3)
        let groups = 3, channels = 30, size = 9
        let x = rng.codes(channels * size * size), w = rng.weights(channels * 9)
        let inputMaps = (0..<channels).map { _ in ActivationQuantization(scale: Float(rng.next() % 100 + 1) * 1e-2, zeroPoint: UInt8(rng.next() % 256)) }
        let weightScales = (0..<channels).map { _ in Float(rng.next() % 100 + 1) * 1e-3 }
        let bias = (0..<channels).map { _ in Float(Int(rng.next() % 201) - 100) * 0.01 }
        let outputs = (0..<channels).map { _ in ActivationQuantization(scale: Float(rng.next() % 100 + 1) * 1e-2, zeroPoint: UInt8(rng.next() % 256)) }
        let layer = QuantizedConvolution(weights: w, weightScales: weightScales, bias: bias)
        let (spec, outSize) = QuantizedReferenceNetwork.depthwise(x, inputMaps: inputMaps, size: size, stride: stride, layer: layer, outputs: outputs)
        let plane = outSize * outSize
        let destinations = shuffle.destinations(channels: channels, groups: groups)
        var shuffled = spec
        for (j, d) in destinations.enumerated() { shuffled.replaceSubrange(d * plane..<(d + 1) * plane, with: spec[j * plane..<(j + 1) * plane]) }
        let twin = ReferenceKernels.quantizedDepthwise(x, height: size, width: size, stride: stride, weights: w,
                                                       inputZeroPoints: inputMaps.map(\.zeroPoint),
                                                       multipliers: (0..<channels).map { inputMaps[$0].scale * weightScales[$0] }, bias: bias,
                                                       outputScales: outputs.map(\.scale), outputZeroPoints: outputs.map(\.zeroPoint),
                                                       destinations: destinations)
        #expect(shuffled == twin)
    }

    /// Bad arguments come back as errors from the packer and the driver, never a crash.
    @Test func refusesBadArguments() throws {
        let kernel = QuantizedDepthwiseKernel.all.last!  // portable: runs everywhere
        #expect(kernel.name.hasSuffix("__generic"))
        func make(weights: [Int8] = [Int8](repeating: 1, count: 18), destinations: [Int] = [1, 0],
                  scales: [Float] = [1, 1]) throws(KernelCallError) -> QuantizedDepthwiseConvolution {
            try QuantizedDepthwiseConvolution(kernel: kernel, weights: weights, inputZeroPoints: [0, 0], multipliers: [1, 1], bias: [0, 0],
                                              outputScales: scales, outputZeroPoints: [0, 0], destinations: destinations, channels: 2,
                                              inputGroups: 2, groups: 2)
        }
        #expect(throws: KernelCallError.self) { try make(weights: [-128] + [Int8](repeating: 1, count: 17)) }
        #expect(throws: KernelCallError.self) { try make(weights: [1, 2, 3]) }
        #expect(throws: KernelCallError.self) { try make(destinations: [0, 0]) }  // not a permutation
        #expect(throws: KernelCallError.self) { try make(destinations: [0, 2]) }
        #expect(throws: KernelCallError.self) { try make(scales: [1, 0]) }
        let conv = try make()
        let stride = ChannelBlocks.blockBytes(25)
        let x = [UInt8](repeating: 1, count: 2 * stride)
        var y = [UInt8](repeating: 0, count: 2 * stride)
        var scratch = [UInt8](repeating: 0, count: QuantizedDepthwiseConvolution.scratchBytes(height: 5, width: 5))
        try scratch.withUnsafeMutableBufferPointer { s throws(KernelCallError) in
            try conv.run(input: x, inputBlockStride: stride, output: &y, outputBlockStride: stride, height: 5, width: 5, stride: 1, scratch: s)
            #expect(throws: KernelCallError.self) {  // stride 3
                try conv.run(input: x, inputBlockStride: stride, output: &y, outputBlockStride: stride, height: 5, width: 5, stride: 3, scratch: s)
            }
            #expect(throws: KernelCallError.self) {  // block stride too small for 25 pixels (32: 128 bytes)
                try conv.run(input: x, inputBlockStride: 100, output: &y, outputBlockStride: stride, height: 5, width: 5, stride: 1, scratch: s)
            }
            #expect(throws: KernelCallError.self) {  // scratch too small for 6 x 6
                try conv.run(input: x, inputBlockStride: ChannelBlocks.blockBytes(36), output: &y, outputBlockStride: stride,
                             height: 6, width: 6, stride: 1, scratch: s)
            }
            #expect(throws: KernelCallError.self) {
                try conv.run(input: x, inputBlockStride: stride, output: &y, outputBlockStride: stride, height: 0, width: 5, stride: 1, scratch: s)
            }
            #expect(throws: KernelCallError.self) {  // past the 2 output blocks
                try conv.run(input: x, inputBlockStride: stride, output: &y, outputBlockStride: stride, height: 5, width: 5, stride: 1,
                             scratch: s, blocks: 0..<3)
            }
        }
    }

    /// The configurations this CPU cannot run, as one visible skip.
    @Test func configurationsThisCPULacksAreSkipped() throws {
        let lacking = QuantizedDepthwiseKernel.all.filter { !$0.isSupported }.map(\.name)
        if !lacking.isEmpty {
            try Test.cancel("not run on this CPU (it lacks their features): \(lacking.joined(separator: ", "))")
        }
    }

    @Test func everyConfigurationIsListedAndTheSelectedOneRuns() {
        let names = QuantizedDepthwiseKernel.all.map(\.name)
        #expect(names.last == "sn_qu8_dwconv3x3_ukernel_4__generic")
        #expect(names.allSatisfy { $0.hasPrefix("sn_qu8_dwconv3x3_ukernel_") })
        #expect(QuantizedDepthwiseKernel.selected.isSupported)
        #if arch(x86_64)
        #expect(names.contains("sn_qu8_dwconv3x3_ukernel_16__avx512vnni"))
        #expect(names.contains("sn_qu8_dwconv3x3_ukernel_8__avx2"))
        #endif
    }
}
