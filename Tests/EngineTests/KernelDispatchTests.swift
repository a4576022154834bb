import Foundation
import Testing
import ShuffleNetEngine

/// Every C kernel variant, called explicitly (not only the one dispatch picked; a variant this CPU lacks is a
/// cancelled test case that says why), against the naive reference kernels, on shapes that hit every block size
/// and tail of the 16-, 8- and 1-lane code paths.
@Suite struct KernelDispatchTests {
    @Test func activeVariantIsSupportedAndHonoursTheEnvironment() {
        #expect(KernelVariant.generic.isSupported)
        #expect(KernelVariant.active.isSupported)
        #expect(KernelVariant.summary.hasPrefix(KernelVariant.active.rawValue))
        // When the suite is run with SHUFFLENET_KERNELS forced, make sure that variant is really the one tested.
        if let forced = ProcessInfo.processInfo.environment["SHUFFLENET_KERNELS"], let wanted = KernelVariant(rawValue: forced),
           wanted.isSupported {
            #expect(KernelVariant.active == wanted)
        } else if ProcessInfo.processInfo.environment["SHUFFLENET_KERNELS"] == nil {
            // Unforced, dispatch picks the widest variant the CPU has.
            #expect(KernelVariant.active == KernelVariant.supported.last)
        }
    }

    @Test(arguments: KernelVariant.allCases)
    func pointwiseMatchesReference(variant: KernelVariant) throws {
        try skipUnlessSupported(variant)
        var rng = TestRandom(100)
        for groups in [1, 2, 3, 4, 8] {
            // Outputs per group 1...17 (every remainder after panels of 8 rows and blocks of 6), pixels from 1 to 784:
            // every tail length 0-15 after the last 16 (the AVX-512 kernel computes tails of up to 4 as lanes, after 0-3
            // vectors of its last block), blocks of 3 vectors, and more than one pixel tile.
            for (inPerGroup, outPerGroup, pixels) in [(1, 1, 1), (3, 5, 49), (7, 6, 81), (10, 13, 121), (2, 4, 225), (24, 9, 64),
                                                      (5, 8, 196), (3, 3, 784), (100, 2, 196), (4, 17, 2), (6, 7, 19), (9, 16, 36),
                                                      (3, 11, 52), (12, 10, 68), (2, 12, 132), (40, 8, 99), (5, 15, 14), (7, 9, 61)] {
                let inputs = inPerGroup * groups, outputs = outPerGroup * groups
                let x = rng.array(inputs * pixels), w = rng.array(outputs * inPerGroup), b = rng.array(outputs)
                let residual = rng.array(outputs * pixels)
                let linear = ReferenceKernels.convolution(x, channels: inputs, height: 1, width: pixels, weights: w,
                                                          outputChannels: outputs, kernel: 1, stride: 1, padding: 0,
                                                          groups: groups, bias: b).values
                // Weights packed for the variant's micro-kernel (panels as high as its register tile).
                let conv = PointwiseConvolution(weights: w, bias: b, inputChannels: inputs, outputChannels: outputs, groups: groups,
                                                kernels: variant)
                // A wider input stride than the output's proves the two strides are not mixed up.
                let input = padded(x, channels: inputs, pixels: pixels, extraStride: 32)
                let res = padded(residual, channels: outputs, pixels: pixels, extraStride: 16)
                let outStride = (pixels + 15) / 16 * 16
                // Split the outputs at a point that is not a multiple of 4 or of the group size (so a call starts inside
                // a weight panel).
                let split = outputs / 2 + (outputs > 2 ? 1 : 0)
                for mode in 0..<3 {
                    var out = [Float](repeating: .nan, count: outputs * outStride)
                    try input.buffer.withUnsafeBufferPointer { xp in
                        try res.buffer.withUnsafeBufferPointer { rp in
                            try out.withUnsafeMutableBufferPointer { op in
                                let epilogue: PointwiseEpilogue = mode == 0 ? .linear : mode == 1 ? .relu
                                    : .addResidualThenReLU(rp.baseAddress!, planeStride: res.stride)
                                for part in [0..<split, split..<outputs] {
                                    try conv.run(on: variant, input: xp.baseAddress!, inputPlaneStride: input.stride, output: op.baseAddress!,
                                                 outputPlaneStride: outStride, pixels: pixels, epilogue: epilogue, outputs: part)
                                }
                            }
                        }
                    }
                    let expected: [Float] = switch mode {
                    case 0: linear
                    case 1: ReferenceKernels.relu(linear)
                    default: ReferenceKernels.relu(zip(linear, residual).map { $0 + $1 })
                    }
                    let got = unpadded(out, channels: outputs, pixels: pixels, stride: outStride)
                    #expect(relativeError(got, expected) < 1e-5, "\(variant) g=\(groups) in=\(inputs) out=\(outputs) \(pixels) pixels mode \(mode)")
                }
            }
        }
    }

    @Test(arguments: KernelVariant.allCases)
    func pointwiseLeavesChannelsOutsideItsRangeAlone(variant: KernelVariant) throws {
        try skipUnlessSupported(variant)
        var rng = TestRandom(7)
        let conv = PointwiseConvolution(weights: rng.array(12 * 6), bias: rng.array(12), inputChannels: 18, outputChannels: 12, groups: 3,
                                        kernels: variant)
        let x = rng.array(18 * 16)
        var out = [Float](repeating: .nan, count: 12 * 16)
        try x.withUnsafeBufferPointer { xp in
            try out.withUnsafeMutableBufferPointer { op in
                try conv.run(on: variant, input: xp.baseAddress!, inputPlaneStride: 16, output: op.baseAddress!, outputPlaneStride: 16,
                             pixels: 16, epilogue: .linear, outputs: 3..<9)
            }
        }
        for channel in 0..<12 {
            let plane = out[(channel * 16)..<(channel * 16 + 16)]
            #expect(plane.allSatisfy { $0.isNaN } == !(3..<9).contains(channel), "\(variant) channel \(channel)")
        }
    }

    @Test(arguments: KernelVariant.allCases)
    func depthwiseMatchesReference(variant: KernelVariant) throws {
        try skipUnlessSupported(variant)
        var rng = TestRandom(200)
        for stride in [1, 2] {
            // Widths around the 8- and 16-lane block sizes, so every masked tail length appears.
            for (height, width) in [(1, 1), (2, 3), (7, 7), (3, 8), (5, 9), (4, 15), (6, 16), (3, 17), (2, 31), (5, 33), (9, 40),
                                    (14, 14), (28, 28), (33, 20), (56, 56)] {
                let channels = 3, pixels = height * width
                let x = rng.array(channels * pixels), w = rng.array(channels * 9), b = rng.array(channels)
                let reference = ReferenceKernels.convolution(x, channels: channels, height: height, width: width, weights: w,
                                                             outputChannels: channels, kernel: 3, stride: stride, padding: 1,
                                                             groups: channels, bias: b)
                let destinations = [2, 0, 1]
                let kernel = DepthwiseConvolution3x3(weights: w, bias: b, channels: channels, stride: stride, destinations: destinations)
                let input = padded(x, channels: channels, pixels: pixels, extraStride: 0)
                let outPixels = reference.height * reference.width
                let outStride = (outPixels + 15) / 16 * 16
                var out = [Float](repeating: .nan, count: channels * outStride)
                var scratch = [Float](repeating: .nan, count: DepthwiseConvolution3x3.scratchCount(height: height, width: width))
                try input.buffer.withUnsafeBufferPointer { xp in
                    try out.withUnsafeMutableBufferPointer { op in
                        try scratch.withUnsafeMutableBufferPointer { sp in
                            for part in [0..<1, 1..<channels] {
                                try kernel.run(on: variant, input: xp.baseAddress!, inputPlaneStride: input.stride, height: height, width: width,
                                               output: op.baseAddress!, outputPlaneStride: outStride, scratch: sp.baseAddress!, channelRange: part)
                            }
                        }
                    }
                }
                for c in 0..<channels {
                    let plane = Array(out[(destinations[c] * outStride)..<(destinations[c] * outStride + outPixels)])
                    let expected = Array(reference.values[(c * outPixels)..<((c + 1) * outPixels)])
                    #expect(relativeError(plane, expected) < 1e-5, "\(variant) stride \(stride) \(height)x\(width) channel \(c)")
                    // The padding after the last pixel of the plane is never written (partial blocks are masked).
                    let padding = out[(destinations[c] * outStride + outPixels)..<((destinations[c] + 1) * outStride)]
                    #expect(padding.allSatisfy { $0.isNaN }, "\(variant) stride \(stride) \(height)x\(width) wrote past the plane")
                }
            }
        }
    }

    @Test(arguments: KernelVariant.allCases)
    func stemConvolutionMatchesReference(variant: KernelVariant) throws {
        try skipUnlessSupported(variant)
        var rng = TestRandom(250)
        // Output channel counts that use every register block (24, 12, 8, 4, 1 and 12, 8, 4, 1 wide) and their
        // sums; sizes whose output rows end in every tail length of the 16- and 8-lane loops.
        for (inputs, outputs, height, width) in [(3, 24, 224, 224), (3, 12, 9, 33), (3, 29, 5, 30), (1, 1, 1, 1), (2, 13, 2, 3),
                                                 (3, 48, 15, 17), (3, 5, 31, 16), (3, 36, 8, 47)] {
            let x = rng.array(inputs * height * width), w = rng.array(outputs * inputs * 9), b = rng.array(outputs)
            let reference = ReferenceKernels.relu(ReferenceKernels.convolution(
                x, channels: inputs, height: height, width: width, weights: w, outputChannels: outputs, kernel: 3, stride: 2,
                padding: 1, groups: 1, bias: b).values)
            let conv = StemConvolution(weights: w, bias: b, inputChannels: inputs, outputChannels: outputs, kernels: variant)
            let outH = StemConvolution.outputSize(height), outPixels = outH * StemConvolution.outputSize(width)
            let outStride = (outPixels + 15) / 16 * 16 + 16
            var out = [Float](repeating: .nan, count: outputs * outStride)
            // The input planes with no slack after the last one: the kernel must not read past a plane's pixels.
            try x.withUnsafeBufferPointer { xp in
                try out.withUnsafeMutableBufferPointer { op in
                    for rows in [0..<(outH / 2), (outH / 2)..<outH] {
                        try conv.run(on: variant, input: xp.baseAddress!, inputPlaneStride: height * width, height: height,
                                     width: width, output: op.baseAddress!, outputPlaneStride: outStride, rows: rows)
                    }
                }
            }
            for o in 0..<outputs {
                let got = Array(out[(o * outStride)..<(o * outStride + outPixels)])
                #expect(relativeError(got, Array(reference[(o * outPixels)..<((o + 1) * outPixels)])) < 1e-5,
                        "\(variant) \(inputs)->\(outputs) \(height)x\(width) channel \(o)")
                #expect(out[(o * outStride + outPixels)..<((o + 1) * outStride)].allSatisfy { $0.isNaN },
                        "\(variant) \(height)x\(width) wrote past channel \(o)'s pixels")
            }
        }
    }

    @Test(arguments: KernelVariant.allCases)
    func stemAndMaxPoolInBandsMatchTheWholePlane(variant: KernelVariant) throws {
        try skipUnlessSupported(variant)
        // The engine's fused conv1 + max pool: conv rows of one band of pooled rows go to a small buffer
        // (outputRowBase), the pool reads them from there (inputRowBase). Bands at the top, middle and bottom.
        var rng = TestRandom(270)
        let (inputs, outputs, height, width) = (3, 16, 29, 35)
        let x = rng.array(inputs * height * width), w = rng.array(outputs * inputs * 9), b = rng.array(outputs)
        let convH = StemConvolution.outputSize(height), convW = StemConvolution.outputSize(width)
        let conv = ReferenceKernels.relu(ReferenceKernels.convolution(
            x, channels: inputs, height: height, width: width, weights: w, outputChannels: outputs, kernel: 3, stride: 2,
            padding: 1, groups: 1, bias: b).values)
        let expected = ReferenceKernels.pool3x3Stride2(conv, channels: outputs, height: convH, width: convW, maximum: true).values
        let poolH = (convH - 1) / 2 + 1, poolW = (convW - 1) / 2 + 1
        let stem = StemConvolution(weights: w, bias: b, inputChannels: inputs, outputChannels: outputs, kernels: variant)
        var pooled = [Float](repeating: .nan, count: outputs * poolH * poolW)
        for bandRows in [0..<3, 3..<7, 7..<poolH] {
            let convRows = max(2 * bandRows.lowerBound - 1, 0)..<min(2 * bandRows.upperBound, convH)
            let bandPlane = convRows.count * convW
            var band = [Float](repeating: .nan, count: outputs * bandPlane)
            try x.withUnsafeBufferPointer { xp in
                try band.withUnsafeMutableBufferPointer { bp in
                    try stem.run(on: variant, input: xp.baseAddress!, inputPlaneStride: height * width, height: height,
                                 width: width, output: bp.baseAddress!, outputPlaneStride: bandPlane, rows: convRows,
                                 outputRowBase: convRows.lowerBound)
                }
            }
            #expect(!band.contains { $0.isNaN }, "\(variant) rows \(convRows): the band is not filled exactly")
            try band.withUnsafeBufferPointer { bp in
                try pooled.withUnsafeMutableBufferPointer { op in
                    try Pooling.max3x3Stride2(on: variant, input: bp.baseAddress!, inputPlaneStride: bandPlane,
                                              inputRowBase: convRows.lowerBound, channels: outputs, height: convH, width: convW,
                                              output: op.baseAddress!, outputPlaneStride: poolH * poolW, rows: bandRows)
                }
            }
        }
        #expect(relativeError(pooled, expected) < 1e-5, "\(variant)")
    }

    @Test(arguments: KernelVariant.allCases)
    func poolingMatchesReference(variant: KernelVariant) throws {
        try skipUnlessSupported(variant)
        var rng = TestRandom(260)
        // Widths around the 16-output block (32 input columns) and both parities; the planes of stages 2-4.
        for (height, width) in [(1, 1), (2, 2), (3, 1), (1, 5), (5, 7), (7, 7), (14, 14), (28, 28), (56, 56), (112, 112),
                                (13, 8), (3, 37), (40, 33), (4, 64), (3, 65)] {
            let channels = 3, pixels = height * width
            // No slack between planes: the kernels must not read past a plane's last pixel (NaN there would show).
            let x = rng.array(channels * pixels)
            var input = x
            input.append(.nan)
            let outH = (height - 1) / 2 + 1, outW = (width - 1) / 2 + 1, outPixels = outH * outW
            let outStride = (outPixels + 15) / 16 * 16 + 16
            for maximum in [true, false] {
                var out = [Float](repeating: .nan, count: channels * outStride)
                try input.withUnsafeBufferPointer { xp in
                    try out.withUnsafeMutableBufferPointer { op in
                        for part in [0..<1, 1..<channels] {
                            if maximum {
                                try Pooling.max3x3Stride2(on: variant, input: xp.baseAddress!, inputPlaneStride: pixels, channels: channels,
                                                          height: height, width: width, output: op.baseAddress!,
                                                          outputPlaneStride: outStride, channelRange: part)
                            } else {
                                try Pooling.average3x3Stride2(channels: channels).run(
                                    on: variant, input: xp.baseAddress!, inputPlaneStride: pixels, height: height, width: width,
                                    output: op.baseAddress!, outputPlaneStride: outStride, channelRange: part)
                            }
                        }
                    }
                }
                let expected = ReferenceKernels.pool3x3Stride2(x, channels: channels, height: height, width: width, maximum: maximum).values
                let got = unpadded(out, channels: channels, pixels: outPixels, stride: outStride)
                if maximum {
                    #expect(got == expected, "\(variant) max \(height)x\(width)")
                } else {
                    #expect(relativeError(got, expected) < 1e-6, "\(variant) average \(height)x\(width)")
                }
                for c in 0..<channels {
                    #expect(out[(c * outStride + outPixels)..<((c + 1) * outStride)].allSatisfy { $0.isNaN },
                            "\(variant) \(height)x\(width) wrote past plane \(c)")
                }
            }
        }
    }

    /// The dense layer's outputs for `x`, computed one output range at a time (NaN where no range reaches).
    static func run(_ layer: DenseLayer, on variant: KernelVariant, _ x: [Float], ranges: [Range<Int>]) throws -> [Float] {
        var y = [Float](repeating: .nan, count: layer.outputs)
        try x.withUnsafeBufferPointer { xp in
            try y.withUnsafeMutableBufferPointer { yp in
                for range in ranges { try layer.run(on: variant, input: xp.baseAddress!, output: yp.baseAddress!, outputRange: range) }
            }
        }
        return y
    }

    @Test(arguments: KernelVariant.allCases)
    func denseMatchesReference(variant: KernelVariant) throws {
        try skipUnlessSupported(variant)
        var rng = TestRandom(300)
        for inputs in [1, 7, 8, 9, 15, 16, 17, 31, 33, 240, 1001] {
            for withBias in [true, false] {
                let outputs = 5
                let x = rng.array(inputs), w = rng.array(inputs * outputs), b = withBias ? rng.array(outputs) : nil
                let layer = DenseLayer(weights: w, bias: b, inputs: inputs, outputs: outputs)
                let y = try Self.run(layer, on: variant, x, ranges: [0..<2, 2..<outputs])
                let expected = ReferenceKernels.linear(x, weights: w, outputs: outputs, bias: b)
                #expect(relativeError(y, expected) < 1e-5, "\(variant) inputs \(inputs) bias \(withBias)")
            }
        }
    }

    /// The dense layer with binary16 weights (the int8 recheck network's classifier) computes what the fp32 one
    /// computes on the same weights widened to floats: odd widths, split output ranges, and weights that exercise
    /// the conversion (subnormals, -0, the largest finite binary16, a value that rounds).
    @Test(arguments: KernelVariant.allCases)
    func halfDenseMatchesReference(variant: KernelVariant) throws {
        try skipUnlessSupported(variant)
        var rng = TestRandom(301)
        let special: [Float] = [6e-8, -6e-8, 3e-5, -0.0, 65504, -65504, 1.0 / 3]
        for inputs in [1, 3, 7, 8, 9, 15, 16, 17, 33, 240, 1001] {
            for withBias in [true, false] {
                let outputs = 7
                let x = rng.array(inputs), b = withBias ? rng.array(outputs) : nil
                var w = rng.array(inputs * outputs)
                for (i, v) in special.enumerated() where i < w.count { w[(i * 37) % w.count] = v }
                let half = w.map { Float16($0).bitPattern }
                let widened = half.map { Float(Float16(bitPattern: $0)) }
                let layer = DenseLayer(halfWeights: half, bias: b, inputs: inputs, outputs: outputs)
                let y = try Self.run(layer, on: variant, x, ranges: [0..<5, 5..<outputs])
                let expected = ReferenceKernels.linear(x, weights: widened, outputs: outputs, bias: b)
                #expect(relativeError(y, expected) < 1e-5, "\(variant) inputs \(inputs) bias \(withBias)")
            }
        }
        // Every binary16 value converts exactly: one weight at a time, against Swift's own conversion.
        let all = (0...UInt16.max).filter { $0 & 0x7C00 != 0x7C00 }  // finite ones
        let x: [Float] = [1]
        for chunk in stride(from: 0, to: all.count, by: 4096) {
            let bits = Array(all[chunk..<min(chunk + 4096, all.count)])
            let y = try Self.run(DenseLayer(halfWeights: bits, bias: nil, inputs: 1, outputs: bits.count), on: variant, x,
                                 ranges: [0..<bits.count])
            for (i, h) in bits.enumerated() where y[i] != Float(Float16(bitPattern: h)) {
                Issue.record("\(variant): binary16 \(String(h, radix: 16)) gave \(y[i]), expected \(Float(Float16(bitPattern: h)))")
                return
            }
        }
    }

    /// Every variant's configuration set: one micro-kernel per operator, named for the instruction set it needs
    /// (XNNPACK's naming), and the portable set everywhere. A variant the CPU lacks is a recorded skip.
    @Test(arguments: KernelVariant.allCases)
    func everyVariantHasAMicroKernelPerOperator(variant: KernelVariant) throws {
        try skipUnlessSupported(variant)
        let names = variant.microKernels
        #expect(names.count == 6, "\(variant): \(names)")
        let suffix = switch variant {
        case .generic: "__generic"
        case .avx2: "__avx2_fma"
        case .avx512: "__avx512f"
        }
        for name in names {
            #expect((name.hasPrefix("sn_f32_") || name.hasPrefix("sn_f16_")) && name.contains("_ukernel_") && name.hasSuffix(suffix),
                    "\(variant): \(name)")
        }
    }

    /// Weights packed for one variant's register tile are refused by a variant with another (an error, not a
    /// crash, and nothing written); the same layout runs anywhere.
    @Test func weightsPackedForAnotherLayoutAreRefused() throws {
        let variants = KernelVariant.supported
        if variants.count < 2 {
            try Test.cancel("one kernel variant on this CPU (\(variants)): no other layout to refuse")
        }
        var rng = TestRandom(9)
        let x = rng.array(6 * 16)
        for packedFor in variants {
            let conv = PointwiseConvolution(weights: rng.array(8 * 3), bias: rng.array(8), inputChannels: 6, outputChannels: 8,
                                            groups: 2, kernels: packedFor)
            for runOn in variants where runOn != packedFor {
                var out = [Float](repeating: .nan, count: 8 * 16)
                let outcome = x.withUnsafeBufferPointer { xp in
                    out.withUnsafeMutableBufferPointer { op in
                        Result { () throws(KernelCallError) in
                            try conv.run(on: runOn, input: xp.baseAddress!, inputPlaneStride: 16, output: op.baseAddress!,
                                         outputPlaneStride: 16, pixels: 16, epilogue: .relu)
                        }
                    }
                }
                #expect(throws: KernelCallError.layoutMismatch(runOn, kernel: "pointwise convolution")) { try outcome.get() }
                #expect(out.allSatisfy { $0.isNaN }, "packed for \(packedFor), run on \(runOn): wrote output")
            }
        }
    }

    /// The CPU features the selection starts from, and the cap `SHUFFLENET_KERNELS` puts on them.
    @Test func enabledFeaturesAreTheDetectedOnesUnderTheCap() {
        let (detected, enabled) = KernelVariant.cpuFeatures
        #expect(!detected.isEmpty && !enabled.isEmpty)
        let detectedSet = Set(detected.split(separator: " ")), enabledSet = Set(enabled.split(separator: " "))
        #expect(enabledSet == ["none"] || enabledSet.isSubset(of: detectedSet), "\(enabled) not within \(detected)")
        if ProcessInfo.processInfo.environment["SHUFFLENET_KERNELS"] == "generic" {
            #expect(enabled == "none")
        } else if ProcessInfo.processInfo.environment["SHUFFLENET_KERNELS"] == nil {
            #expect(enabled == detected)
        }
    }

    @Test func unsupportedVariantsThrowInsteadOfRunning() {
        let layer = DenseLayer(weights: [1, 2], bias: nil, inputs: 2, outputs: 1)
        let x: [Float] = [3, 4]
        var y: [Float] = [.nan]
        for variant in KernelVariant.allCases where !variant.isSupported {
            let outcome = x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    Result { () throws(KernelCallError) in try layer.run(on: variant, input: xp.baseAddress!, output: yp.baseAddress!) }
                }
            }
            #expect(throws: KernelCallError.unsupportedVariant(variant, kernel: "dense layer")) { try outcome.get() }
            #expect(y[0].isNaN)
        }
    }

    @Test func mismatchedShapesThrowWithTheKernelsName() {
        // 5 weights cannot be a 2 x 3 matrix; a stride of 3 is not implemented.
        let conv = PointwiseConvolution(weights: [Float](repeating: 1, count: 5), bias: [0, 0], inputChannels: 3, outputChannels: 2, groups: 1)
        let depthwise = DepthwiseConvolution3x3(weights: [Float](repeating: 1, count: 9), bias: [0], channels: 1, stride: 3)
        var buffer = [Float](repeating: 0, count: 1024)
        buffer.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            do throws(KernelCallError) {
                try conv.run(on: .generic, input: base, inputPlaneStride: 16, output: base + 512, outputPlaneStride: 16,
                             pixels: 16, epilogue: .relu)
                Issue.record("5 weights for a 2x3 pointwise convolution were accepted")
            } catch {
                #expect(error.description.contains("pointwise") && error.description.contains("5 weights"), "\(error)")
            }
            do throws(KernelCallError) {
                try depthwise.run(on: .generic, input: base, inputPlaneStride: 16, height: 4, width: 4, output: base + 512,
                                  outputPlaneStride: 16, scratch: base + 256)
                Issue.record("stride 3 was accepted")
            } catch {
                #expect(error.description.contains("depthwise") && error.description.contains("stride 3"), "\(error)")
            }
        }
    }
}

