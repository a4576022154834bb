import Testing
import ShuffleNetEngine

/// Every fast kernel against the naive reference, on odd shapes and every supported group count.
@Suite struct KernelTests {
    @Test(arguments: [1, 2, 3, 4, 8])
    func pointwiseMatchesReferenceForEveryGroupCount(groups: Int) {
        var rng = TestRandom(UInt64(groups))
        // Odd sizes: outputs per group not a multiple of 4, pixels not a multiple of 16 or 64.
        for (inPerGroup, outPerGroup, side) in [(1, 1, 1), (3, 5, 7), (7, 6, 9), (10, 13, 11), (2, 4, 15)] {
            let inputs = inPerGroup * groups, outputs = outPerGroup * groups, pixels = side * side
            let x = rng.array(inputs * pixels), w = rng.array(outputs * inPerGroup), b = rng.array(outputs)
            let residual = rng.array(outputs * pixels)
            let expectedLinear = ReferenceKernels.convolution(x, channels: inputs, height: side, width: side, weights: w,
                                                              outputChannels: outputs, kernel: 1, stride: 1, padding: 0,
                                                              groups: groups, bias: b).values
            let conv = PointwiseConvolution(weights: w, bias: b, inputChannels: inputs, outputChannels: outputs, groups: groups)
            let input = padded(x, channels: inputs, pixels: pixels)
            let res = padded(residual, channels: outputs, pixels: pixels)
            for mode in 0..<3 {
                var out = [Float](repeating: .nan, count: outputs * input.stride)
                input.buffer.withUnsafeBufferPointer { xp in
                    res.buffer.withUnsafeBufferPointer { rp in
                        out.withUnsafeMutableBufferPointer { op in
                            let epilogue: PointwiseEpilogue = mode == 0 ? .linear : mode == 1 ? .relu
                                : .addResidualThenReLU(rp.baseAddress!, planeStride: res.stride)
                            conv.run(input: xp.baseAddress!, inputPlaneStride: input.stride, output: op.baseAddress!,
                                     outputPlaneStride: input.stride, pixels: pixels, epilogue: epilogue)
                        }
                    }
                }
                let got = unpadded(out, channels: outputs, pixels: pixels, stride: input.stride)
                let expected: [Float] = switch mode {
                case 0: expectedLinear
                case 1: ReferenceKernels.relu(expectedLinear)
                default: ReferenceKernels.relu(zip(expectedLinear, residual).map { $0 + $1 })
                }
                #expect(relativeError(got, expected) < 1e-5, "g=\(groups) in=\(inputs) out=\(outputs) \(side)x\(side) mode \(mode)")
            }
        }
    }

    @Test(arguments: [1, 2])
    func depthwiseMatchesReferenceOnOddShapes(stride: Int) {
        var rng = TestRandom(UInt64(40 + stride))
        for (height, width, channels) in [(1, 1, 2), (2, 3, 3), (7, 7, 5), (14, 14, 4), (9, 17, 3), (28, 28, 2), (33, 20, 3)] {
            let pixels = height * width
            let x = rng.array(channels * pixels), w = rng.array(channels * 9), b = rng.array(channels)
            let reference = ReferenceKernels.convolution(x, channels: channels, height: height, width: width, weights: w,
                                                         outputChannels: channels, kernel: 3, stride: stride, padding: 1,
                                                         groups: channels, bias: b)
            // A reversed channel order checks that each channel goes to the plane it is told to.
            let destinations = Array((0..<channels).reversed())
            let kernel = DepthwiseConvolution3x3(weights: w, bias: b, channels: channels, stride: stride, destinations: destinations)
            let input = padded(x, channels: channels, pixels: pixels)
            let outPixels = reference.height * reference.width
            let outStride = (outPixels + 15) / 16 * 16
            var out = [Float](repeating: .nan, count: channels * outStride)
            var scratch = [Float](repeating: .nan, count: DepthwiseConvolution3x3.scratchCount(height: height, width: width))
            input.buffer.withUnsafeBufferPointer { xp in
                out.withUnsafeMutableBufferPointer { op in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        kernel.run(input: xp.baseAddress!, inputPlaneStride: input.stride, height: height, width: width,
                                   output: op.baseAddress!, outputPlaneStride: outStride, scratch: sp.baseAddress!)
                    }
                }
            }
            let got = unpadded(out, channels: channels, pixels: outPixels, stride: outStride)
            let expected = destinations.indices.flatMap { plane in
                let source = destinations.firstIndex(of: plane)!
                return reference.values[(source * outPixels)..<((source + 1) * outPixels)]
            }
            #expect(relativeError(got, Array(expected)) < 1e-5, "stride \(stride) \(height)x\(width)x\(channels)")
        }
    }

    @Test func averagePoolDividesByNineAtTheBorder() {
        // Hand-computed: a 2x2 image of ones; the single output window covers 4 real pixels and 5 padding.
        let pooled = ReferenceKernels.pool3x3Stride2([1, 1, 1, 1], channels: 1, height: 2, width: 2, maximum: false)
        #expect(pooled.values == [Float(4) / 9])
    }

    @Test func denseLayerMatchesReference() {
        var rng = TestRandom(9)
        for (inputs, outputs) in [(1, 1), (17, 5), (480, 10), (33, 3)] {
            let x = rng.array(inputs), w = rng.array(inputs * outputs), b = rng.array(outputs)
            let layer = DenseLayer(weights: w, bias: b, inputs: inputs, outputs: outputs)
            var y = [Float](repeating: 0, count: outputs)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { layer.run(input: xp.baseAddress!, output: $0.baseAddress!) } }
            #expect(relativeError(y, ReferenceKernels.linear(x, weights: w, outputs: outputs, bias: b)) < 1e-5)
        }
    }

    @Test func referenceConvolutionMatchesHandComputedValues() {
        // 1 channel 3x3 input 1...9, a 3x3 kernel of ones, padding 1, stride 2: the four corners' sums.
        let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        let out = ReferenceKernels.convolution(x, channels: 1, height: 3, width: 3, weights: [Float](repeating: 1, count: 9),
                                               outputChannels: 1, kernel: 3, stride: 2, padding: 1, groups: 1)
        #expect(out.height == 2 && out.width == 2)
        let cornerSums: [Float] = [12, 16, 24, 28]  // 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9
        #expect(out.values == cornerSums)
    }
}
