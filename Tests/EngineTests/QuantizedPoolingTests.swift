import Testing
import ShuffleNetEngine

/// The small int8 operators (`QuantizedPooling`: quantize, 3x3 stride-2 average pool, global average pool, channel
/// copy; `QuantizedDenseLayer`) on every kernel variant the CPU has (one it lacks is a cancelled test case that
/// says so) against their naive twins, `QuantizedReferenceKernels`, which are in turn checked against values
/// computed by hand. Results must be equal, code for code and bit for bit.
@Suite struct QuantizedPoolingTests {
    typealias Bytes = QuantizedPointwiseTests.Bytes

    static func skipUnlessSupported(_ variant: KernelVariant) throws {
        if !variant.isSupported {
            try Test.cancel("the \(variant) variant cannot run on this CPU (it lacks the micro-kernels' features); compiled, not run")
        }
    }

    /// Planar `[C][pixels]` codes into dense blocks `stride` bytes apart (padding lanes and pixels, and the bytes
    /// past the minimum stride, get `fill`).
    static func blocked(_ planar: [UInt8], channels: Int, pixels: Int, stride: Int, fill: UInt8) -> [UInt8] {
        let blocks = (channels + 3) / 4
        var out = [UInt8](repeating: fill, count: blocks * stride + 64)
        for c in 0..<channels {
            for p in 0..<pixels { out[c / 4 * stride + 4 * p + c % 4] = planar[c * pixels + p] }
        }
        return out
    }

    /// Lane `slot` (a channel of the block layout) of every pixel.
    static func lane(_ blocked: [UInt8], slot: Int, pixels: Int, stride: Int) -> [UInt8] {
        (0..<pixels).map { blocked[slot / 4 * stride + 4 * $0 + slot % 4] }
    }

    static func map(_ rng: inout Bytes, zeroPoint: Bool) -> ActivationQuantization {
        ActivationQuantization(scale: Float(rng.next() % 1000 + 1) * 1e-4, zeroPoint: zeroPoint ? UInt8(truncatingIfNeeded: rng.next()) : 0)
    }

    // MARK: - The twins by hand

    @Test func twinsMatchHandComputedValues() {
        // quantize: v / 0.5 = 0, 0.5 (half to even: 0), 1.5 (2), -2, 400 (clamped), -200 (clamped), + 10.
        let half = ActivationQuantization(scale: 0.5, zeroPoint: 10)
        #expect(QuantizedReferenceKernels.quantize([0, 0.25, 0.75, -1, 200, -100], map: half) == [10, 10, 12, 8, 255, 0])
        // 3x3 average pool of a 3x3 plane (x - 5 = 1 ... 9): every 2x2 output window has 4 taps inside:
        // 1+2+4+5 = 12, 2+3+5+6 = 16, 4+5+7+8 = 24, 5+6+8+9 = 28; / 9 = 1.33, 1.78, 2.67, 3.11 -> 1, 2, 3, 3, + 100.
        let x: [UInt8] = (1...9).map { UInt8(5 + $0) }
        let pooled = QuantizedReferenceKernels.average3x3Stride2(x, channels: 1, height: 3, width: 3,
                                                                 inputMap: ActivationQuantization(scale: 1, zeroPoint: 5),
                                                                 outputMap: ActivationQuantization(scale: 1, zeroPoint: 100))
        #expect(pooled == [101, 102, 103, 103])
        // 1x2 plane: one output, taps (0,0) and (0,1): (x - 0) = 9 + 18 = 27 -> 3 * 2 / 9 ... scale 2: 27 * 2 / 9 = 6.
        #expect(QuantizedReferenceKernels.average3x3Stride2([9, 18], channels: 1, height: 1, width: 2,
                                                            inputMap: ActivationQuantization(scale: 2, zeroPoint: 0),
                                                            outputMap: ActivationQuantization(scale: 1, zeroPoint: 0)) == [6])
        // Global average: channel 0 (10, 13, 16) - 10 = 9 -> 9 * 0.5 / 3 = 1.5; channel 1 (0, 0, 3) - 10 = -27 -> -4.5.
        let features = QuantizedReferenceKernels.globalAverage([10, 13, 16, 0, 0, 3], channels: 2, pixels: 3,
                                                               map: ActivationQuantization(scale: 0.5, zeroPoint: 10))
        #expect(features == [1.5, -4.5])
        // ... as codes with scale 1, zero point 128: rint(1.5) = 2, rint(-4.5) = -4 (half to even).
        #expect(QuantizedReferenceKernels.quantize(features, map: ActivationQuantization(scale: 1, zeroPoint: 128)) == [130, 124])
        // Dense: x - 5 = (0, 2, 4); rows (1, -2, 3) -> 8, (127, -127, 0) -> -254; 8 * 0.5 + 1 = 5, -254 * 0.25 - 1 = -64.5.
        let logits = QuantizedReferenceKernels.dense([5, 7, 9], weights: [1, -2, 3, 127, -127, 0], inputZeroPoint: 5,
                                                     multipliers: [0.5, 0.25], bias: [1, -1])
        #expect(logits == [5, -64.5])
        // The channel copy: 2 channels of 2 pixels after one channel.
        #expect(QuantizedReferenceKernels.copyChannels([1, 2, 3, 4], groups: 2, perGroup: 1, into: [9, 9, 0, 0, 0, 0], channelOffset: 1, pixels: 2)
                == [9, 9, 1, 2, 3, 4])
    }

    /// The twins agree with the reference network's own code on its real shapes: the shortcut pool and the
    /// features are written there inline; this pins the twins to that text (same expressions).
    @Test func twinsAgreeWithTheReferenceNetworkFormulas() {
        var rng = Bytes(state: 3)
        let inMap = Self.map(&rng, zeroPoint: true), outMap = Self.map(&rng, zeroPoint: true)
        let x = rng.codes(5 * 7 * 7)
        let pooled = QuantizedReferenceKernels.average3x3Stride2(x, channels: 5, height: 7, width: 7, inputMap: inMap, outputMap: outMap)
        // Output (1, 1) of channel 2: the full window rows 1...3, columns 1...3.
        var sum: Int32 = 0
        for iy in 1...3 { for ix in 1...3 { sum += Int32(x[(2 * 7 + iy) * 7 + ix]) - Int32(inMap.zeroPoint) } }
        #expect(pooled[(2 * 4 + 1) * 4 + 1] == outMap.quantize(Float(sum) * (inMap.scale / 9)))
    }

    // MARK: - Kernels against the twins

    @Test(arguments: KernelVariant.allCases)
    func quantizeMatchesTheTwinExactly(variant: KernelVariant) throws {
        try Self.skipUnlessSupported(variant)
        var rng = Bytes(state: 21)
        var cases = 0
        for (si, (h, w)) in [(1, 1), (2, 2), (3, 3), (7, 7), (14, 14), (28, 28), (56, 56), (5, 9), (3, 17)].enumerated() {
            for channels in [1, 3, 4, 5, 7, 24] {
                let pixels = h * w
                let map = Self.map(&rng, zeroPoint: (si + channels) % 2 == 0)
                let planeStride = pixels + Int(rng.next() % 20)
                var planes = [Float](repeating: .nan, count: channels * planeStride)
                for c in 0..<channels {
                    for p in 0..<pixels {
                        // Mostly inside the map's range, some far outside, some exactly on a half step.
                        let code = Float(Int(rng.next() % 400) - 200)
                        planes[c * planeStride + p] = rng.next() % 5 == 0 ? (code + 0.5) * map.scale : code * map.scale * 1.01
                    }
                }
                let stride = ChannelBlocks.blockBytes(pixels) + 64 * Int(rng.next() % 2)
                // Whole, then a range in the middle (both ends odd where there is room).
                for range in [0..<pixels, (pixels / 3)..<(pixels - pixels / 4)] {
                    var out = [UInt8](repeating: 0xcd, count: (channels + 3) / 4 * stride + 64)
                    try planes.withUnsafeBufferPointer { pb in
                        try out.withUnsafeMutableBufferPointer { ob in
                            try QuantizedPooling.quantize(planes: pb.baseAddress!, planeStride: planeStride, channels: channels, pixels: range,
                                                          map: map, output: ob.baseAddress!, blockStride: stride, variant: variant)
                        }
                    }
                    var bad = 0
                    for slot in 0..<((channels + 3) / 4 * 4) {
                        let got = Self.lane(out, slot: slot, pixels: pixels, stride: stride)
                        for p in 0..<pixels {
                            let expected: UInt8 = !range.contains(p) ? 0xcd
                                : slot < channels ? QuantizedReferenceKernels.quantize([planes[slot * planeStride + p]], map: map)[0] : map.zeroPoint
                            if got[p] != expected { bad += 1 }
                        }
                    }
                    // Nothing past the blocks' pixels is written.
                    for b in 0..<((channels + 3) / 4) {
                        for i in (4 * pixels)..<stride where out[b * stride + i] != 0xcd { bad += 1 }
                    }
                    #expect(bad == 0, "\(variant): \(channels) channels \(h)x\(w), pixels \(range), \(map): \(bad) codes differ")
                    cases += 1
                }
            }
        }
        #expect(cases == 108)
    }

    @Test(arguments: KernelVariant.allCases)
    func averagePoolMatchesTheTwinExactly(variant: KernelVariant) throws {
        try Self.skipUnlessSupported(variant)
        var rng = Bytes(state: 7)
        var cases = 0
        let shapes = [(1, 1), (2, 2), (3, 3), (7, 7), (14, 14), (28, 28), (56, 56), (1, 7), (7, 1), (5, 9), (9, 5), (13, 31), (4, 33), (56, 28)]
        for (si, (h, w)) in shapes.enumerated() {
            for channels in [4, 12, 6] {
                let pixels = h * w, oh = (h - 1) / 2 + 1, ow = (w - 1) / 2 + 1, outPixels = oh * ow
                let inMap = Self.map(&rng, zeroPoint: si % 2 == 0), outMap = Self.map(&rng, zeroPoint: si % 3 != 0)
                let x = rng.codes(channels * pixels)
                let blocks = (channels + 3) / 4
                let inStride = ChannelBlocks.blockBytes(pixels) + 64 * Int(rng.next() % 2)
                let outStride = ChannelBlocks.blockBytes(outPixels) + 128 * Int(rng.next() % 2)
                // The padding lanes of the last block are junk codes too: they are pooled like the others.
                var input = Self.blocked(x, channels: channels, pixels: pixels, stride: inStride, fill: 0)
                for i in input.indices where (i % inStride) >= 4 * pixels || (i / inStride) * 4 + i % 4 >= channels {
                    input[i] = UInt8(truncatingIfNeeded: rng.next())
                }
                var paddedX = [UInt8](repeating: 0, count: blocks * 4 * pixels)
                for slot in 0..<(blocks * 4) {
                    for p in 0..<pixels { paddedX[slot * pixels + p] = input[slot / 4 * inStride + 4 * p + slot % 4] }
                }
                let expected = QuantizedReferenceKernels.average3x3Stride2(paddedX, channels: blocks * 4, height: h, width: w,
                                                                           inputMap: inMap, outputMap: outMap)
                // All blocks in one call, then one block per call in reverse, then from block 1 (the first untouched).
                for split in 0..<3 {
                    var out = [UInt8](repeating: 0xcd, count: blocks * outStride + 64)
                    let ranges: [Range<Int>] = split == 0 ? [0..<blocks] : split == 1 ? (0..<blocks).reversed().map { $0..<($0 + 1) } : [min(1, blocks)..<blocks]
                    try input.withUnsafeBufferPointer { xb in
                        try out.withUnsafeMutableBufferPointer { ob in
                            for r in ranges {
                                try QuantizedPooling.average3x3Stride2(input: xb.baseAddress!, inputBlockStride: inStride, height: h, width: w,
                                                                       inputMap: inMap, output: ob.baseAddress!, outputBlockStride: outStride,
                                                                       outputMap: outMap, blocks: r, variant: variant)
                            }
                        }
                    }
                    let first = split == 2 ? min(1, blocks) : 0
                    var bad = 0
                    for slot in 0..<(blocks * 4) {
                        let got = Self.lane(out, slot: slot, pixels: outPixels, stride: outStride)
                        for p in 0..<outPixels where got[p] != (slot / 4 >= first ? expected[slot * outPixels + p] : 0xcd) { bad += 1 }
                    }
                    for b in 0..<blocks {
                        for i in (4 * outPixels)..<outStride where out[b * outStride + i] != 0xcd { bad += 1 }
                    }
                    #expect(bad == 0, "\(variant): \(channels) channels \(h)x\(w) split \(split), \(inMap) -> \(outMap): \(bad) codes differ")
                    cases += 1
                }
            }
        }
        #expect(cases == 126)
    }

    @Test(arguments: KernelVariant.allCases)
    func globalAverageMatchesTheTwinExactly(variant: KernelVariant) throws {
        try Self.skipUnlessSupported(variant)
        var rng = Bytes(state: 13)
        var cases = 0
        for pixels in [1, 2, 3, 7, 16, 49, 196, 3136] {
            for channels in [1, 3, 4, 5, 13, 960] {
                let map = Self.map(&rng, zeroPoint: (pixels + channels) % 2 == 0)
                let codesMap = Self.map(&rng, zeroPoint: channels % 3 != 0)
                let x = rng.codes(channels * pixels)
                let stride = ChannelBlocks.blockBytes(pixels) + 64 * Int(rng.next() % 2)
                // Junk past the pixels and in the padding lanes: ignored.
                var input = Self.blocked(x, channels: channels, pixels: pixels, stride: stride, fill: 0)
                for i in input.indices where (i % stride) >= 4 * pixels || (i / stride) * 4 + i % 4 >= channels {
                    input[i] = UInt8(truncatingIfNeeded: rng.next())
                }
                let expected = QuantizedReferenceKernels.globalAverage(x, channels: channels, pixels: pixels, map: map)
                let expectedCodes = QuantizedReferenceKernels.quantize(expected, map: codesMap)
                for withCodes in [false, true] {
                    var features = [Float](repeating: .nan, count: channels)
                    var codes = [UInt8](repeating: 0xcd, count: channels)
                    try input.withUnsafeBufferPointer { xb in
                        try features.withUnsafeMutableBufferPointer { fb in
                            try codes.withUnsafeMutableBufferPointer { cb in
                                try QuantizedPooling.globalAverage(input: xb.baseAddress!, blockStride: stride, channels: channels, pixels: pixels,
                                                                   map: map, features: fb.baseAddress!, codes: withCodes ? cb.baseAddress! : nil,
                                                                   codesMap: codesMap, variant: variant)
                            }
                        }
                    }
                    let badFeatures = zip(features, expected).filter { $0.bitPattern != $1.bitPattern }.count
                    let badCodes = withCodes ? zip(codes, expectedCodes).filter { $0 != $1 }.count : codes.filter { $0 != 0xcd }.count
                    #expect(badFeatures == 0 && badCodes == 0,
                            "\(variant): \(channels) channels x \(pixels) pixels, codes \(withCodes): \(badFeatures) features, \(badCodes) codes differ")
                    cases += 1
                }
            }
        }
        #expect(cases == 96)
    }

    @Test(arguments: QuantizedDenseKernel.all)
    func denseMatchesTheTwinExactly(kernel: QuantizedDenseKernel) throws {
        if !kernel.isSupported {
            try Test.cancel("\(kernel.name) cannot run on this CPU (it lacks the micro-kernel's features); compiled, not run")
        }
        var rng = Bytes(state: 17)
        var cases = 0
        for inputs in [1, 2, 3, 4, 5, 7, 64, 131, 480, 960, 1024] {
            for outputs in [1, 3, 15, 16, 17, 100, 129, 1000] {
                let w = rng.weights(outputs * inputs), x = rng.codes(inputs)
                let zero = (inputs + outputs) % 2 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : 0
                let multipliers = (0..<outputs).map { _ in Float(rng.next() % 1000 + 1) * 1e-6 }
                let bias = (0..<outputs).map { _ in Float(Int(rng.next() % 2001) - 1000) * 1e-3 }
                let expected = QuantizedReferenceKernels.dense(x, weights: w, inputZeroPoint: zero, multipliers: multipliers, bias: bias)
                let layer = try QuantizedDenseLayer(kernel: kernel, weights: w, inputZeroPoint: zero, multipliers: multipliers,
                                                    bias: bias, outputs: outputs, inputs: inputs)
                // Whole; then in three ranges with odd bounds, as threads would split it.
                let cuts = [0, outputs / 3, outputs - outputs / 5, outputs]
                for split in [false, true] {
                    var out = [Float](repeating: .nan, count: outputs)
                    try x.withUnsafeBufferPointer { xb in
                        try out.withUnsafeMutableBufferPointer { ob in
                            if split {
                                for i in 0..<3 { try layer.run(input: xb.baseAddress!, output: ob.baseAddress!, outputs: cuts[i]..<cuts[i + 1]) }
                            } else {
                                try layer.run(input: xb.baseAddress!, output: ob.baseAddress!, outputs: 0..<outputs)
                            }
                        }
                    }
                    let bad = zip(out, expected).filter { $0.bitPattern != $1.bitPattern }.count
                    #expect(bad == 0, "\(kernel.name): \(outputs)x\(inputs) zero point \(zero) split \(split): \(bad) logits differ")
                    cases += 1
                }
            }
        }
        #expect(cases == 176)
    }

    @Test func copyChannelsMatchesTheTwinExactly() throws {
        var rng = Bytes(state: 29)
        var cases = 0
        for (groups, perGroup, offset, pixels) in [(8, 22, 16, 784), (8, 22, 16, 196), (3, 10, 12, 49), (1, 5, 3, 7), (2, 3, 1, 1),
                                                   (4, 4, 0, 16), (3, 7, 6, 17), (8, 1, 2, 3)] {
            let channels = offset + groups * perGroup
            let padded = (perGroup + 3) / 4 * 4
            let x = rng.codes(groups * perGroup * pixels), before = rng.codes(channels * pixels)
            let inStride = ChannelBlocks.blockBytes(pixels) + 64, outStride = ChannelBlocks.blockBytes(pixels)
            let input = ChannelBlocks.pack(x, groups: groups, perGroup: perGroup, pixels: pixels, fill: 0x5a)
            var inputStrided = [UInt8](repeating: 0x77, count: groups * padded / 4 * inStride)
            for b in 0..<(groups * padded / 4) {
                for i in 0..<ChannelBlocks.blockBytes(pixels) { inputStrided[b * inStride + i] = input[b * ChannelBlocks.blockBytes(pixels) + i] }
            }
            var out = Self.blocked(before, channels: channels, pixels: pixels, stride: outStride, fill: 0xcd)
            let untouched = out
            try inputStrided.withUnsafeBufferPointer { xb in
                try out.withUnsafeMutableBufferPointer { ob in
                    try QuantizedPooling.copyChannels(input: xb.baseAddress!, inputBlockStride: inStride, groups: groups, perGroup: perGroup,
                                                      output: ob.baseAddress!, outputBlockStride: outStride, channelOffset: offset, pixels: pixels)
                }
            }
            let expected = QuantizedReferenceKernels.copyChannels(x, groups: groups, perGroup: perGroup, into: before,
                                                                  channelOffset: offset, pixels: pixels)
            var bad = 0
            for c in 0..<channels where Self.lane(out, slot: c, pixels: pixels, stride: outStride) != Array(expected[(c * pixels)..<((c + 1) * pixels)]) {
                bad += 1
            }
            // Lanes past the channels and bytes past the pixels untouched.
            for i in out.indices where (i % outStride >= 4 * pixels || (i / outStride) * 4 + i % 4 >= channels) && out[i] != untouched[i] { bad += 1 }
            #expect(bad == 0, "g=\(groups) n=\(perGroup) offset=\(offset) pixels=\(pixels): \(bad) differ")
            cases += 1
        }
        #expect(cases == 8)
    }

    // MARK: - Selection and refusals

    @Test(arguments: KernelVariant.allCases)
    func selectedForAVariantIsWithinItsCap(variant: KernelVariant) throws {
        try Self.skipUnlessSupported(variant)
        for name in [QuantizedPointwiseKernel.selected(for: variant).name, QuantizedDepthwiseKernel.selected(for: variant).name,
                     QuantizedDenseKernel.selected(for: variant).name] {
            switch variant {
            case .generic: #expect(name.hasSuffix("__generic"), "\(name)")
            case .avx2: #expect(!name.contains("avx512"), "\(name)")
            case .avx512: break
            }
        }
        #expect(QuantizedPointwiseKernel.selected(for: variant).isSupported)
        #expect(QuantizedDepthwiseKernel.selected(for: variant).isSupported)
        #expect(QuantizedDenseKernel.selected(for: variant).isSupported)
        for op in 0..<3 {
            let name = try #require(QuantizedPooling.kernelName(operator: op, variant: variant))
            if variant == .generic { #expect(name.hasSuffix("__generic"), "\(name)") }
            if variant == .avx2 { #expect(!name.contains("avx512"), "\(name)") }
        }
    }

    @Test func badArgumentsThrowInsteadOfRunning() throws {
        let map = ActivationQuantization(scale: 0.1, zeroPoint: 3)
        var bytes = [UInt8](repeating: 0, count: 4096)
        var floats = [Float](repeating: 0, count: 1024)
        bytes.withUnsafeMutableBufferPointer { b in
            floats.withUnsafeMutableBufferPointer { f in
                // A block stride smaller than the pixels need.
                #expect(throws: KernelCallError.self) {
                    try QuantizedPooling.quantize(planes: f.baseAddress!, planeStride: 100, channels: 4, pixels: 0..<100, map: map,
                                                  output: b.baseAddress!, blockStride: 64)
                }
                #expect(throws: KernelCallError.self) {
                    try QuantizedPooling.average3x3Stride2(input: b.baseAddress!, inputBlockStride: 64, height: 7, width: 7, inputMap: map,
                                                           output: b.baseAddress!, outputBlockStride: 64, outputMap: map, blocks: 0..<1)
                }
                #expect(throws: KernelCallError.self) {
                    try QuantizedPooling.globalAverage(input: b.baseAddress!, blockStride: 64, channels: 8, pixels: 0, map: map,
                                                       features: f.baseAddress!, codes: nil, codesMap: map)
                }
                #expect(throws: KernelCallError.self) {
                    try QuantizedPooling.copyChannels(input: b.baseAddress!, inputBlockStride: 64, groups: 2, perGroup: 3,
                                                      output: b.baseAddress!, outputBlockStride: 32, channelOffset: 0, pixels: 16)
                }
            }
        }
        // -128 is not a weight of the scheme; outputs past the layer are refused.
        #expect(throws: KernelCallError.self) {
            _ = try QuantizedDenseLayer(kernel: .selected, weights: [-128, 1], inputZeroPoint: 0, multipliers: [1], bias: [0], outputs: 1, inputs: 2)
        }
        let layer = try QuantizedDenseLayer(kernel: .selected, weights: [1, 2], inputZeroPoint: 0, multipliers: [1], bias: [0], outputs: 1, inputs: 2)
        let x: [UInt8] = [1, 2]
        var y: [Float] = [0, 0]
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                _ = #expect(throws: KernelCallError.self) { try layer.run(input: xb.baseAddress!, output: yb.baseAddress!, outputs: 0..<2) }
            }
        }
        try x.withUnsafeBufferPointer { xb in
            try y.withUnsafeMutableBufferPointer { yb in try layer.run(input: xb.baseAddress!, output: yb.baseAddress!, outputs: 0..<1) }
        }
        #expect(y[0] == 5)
    }
}
