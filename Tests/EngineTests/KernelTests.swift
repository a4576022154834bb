import Testing
import ShuffleNetEngine

/// The naive reference kernels against hand-computed values. (The fast kernels are compared with these references
/// on every variant in `KernelDispatchTests`.)
@Suite struct KernelTests {
    @Test func averagePoolDividesByNineAtTheBorder() {
        // Hand-computed: a 2x2 image of ones; the single output window covers 4 real pixels and 5 padding.
        let pooled = ReferenceKernels.pool3x3Stride2([1, 1, 1, 1], channels: 1, height: 2, width: 2, maximum: false)
        #expect(pooled.values == [Float(4) / 9])
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
