import CKernels

/// Pooling kernels on channel planes (`[C][H][W]` with a plane stride).
public enum Pooling {
    /// 3x3 max pool, stride 2, padding 1 (the padding never wins, as in PyTorch).
    ///
    /// Per output row: the elementwise max of the (up to) three input rows, into a scratch row with a -inf
    /// border, then the max of columns 2x, 2x+1, 2x+2 of that row, sixteen outputs per vector.
    /// `scratch` needs `scratchCount(width:)` floats.
    public static func max3x3Stride2(input: UnsafePointer<Float>, inputPlaneStride: Int, channels: Int,
                                     height: Int, width: Int, output: UnsafeMutablePointer<Float>, outputPlaneStride: Int,
                                     scratch: UnsafeMutablePointer<Float>, channelRange: Range<Int>? = nil) {
        separable3x3Stride2(MaximumWindow.self, input: input, inputPlaneStride: inputPlaneStride, height: height, width: width,
                            output: output, outputPlaneStride: outputPlaneStride, scratch: scratch,
                            channels: channelRange ?? 0..<channels)
    }

    /// A 3x3, stride-2, padding-1 window reduction done separably: per output row, the (up to) three input
    /// rows combined lane by lane into a scratch row bordered with the reduction's padding value, then
    /// columns 2x, 2x+1, 2x+2 of that row combined, sixteen outputs per vector (even-lane loads).
    static func separable3x3Stride2<R: WindowReduction>(_: R.Type, input: UnsafePointer<Float>, inputPlaneStride: Int,
                                                        height: Int, width: Int, output: UnsafeMutablePointer<Float>,
                                                        outputPlaneStride: Int, scratch: UnsafeMutablePointer<Float>,
                                                        channels: Range<Int>) {
        let outH = (height - 1) / 2 + 1, outW = (width - 1) / 2 + 1
        let combined = scratch + 1  // combined[-1] is the left padding
        scratch.update(repeating: R.padding, count: scratchCount(width: width))
        let vectorEnd = width & ~15
        for c in channels {
            let src = input + c * inputPlaneStride, dst = output + c * outputPlaneStride
            for y in 0..<outH {
                let first = max(2 * y - 1, 0), last = min(2 * y + 1, height - 1)
                var x = 0
                while x < vectorEnd {
                    var v = load(src + first * width + x)
                    var row = first + 1
                    while row <= last { v = R.combine(v, load(src + row * width + x)); row += 1 }
                    store(v, combined + x)
                    x += 16
                }
                while x < width {
                    var v = src[first * width + x]
                    var row = first + 1
                    while row <= last { v = R.combine(v, src[row * width + x]); row += 1 }
                    combined[x] = v
                    x += 1
                }
                var o = 0
                while o < outW {
                    // Output o covers combined columns 2o-1, 2o, 2o+1, i.e. scratch columns 2o, 2o+1, 2o+2.
                    let v = R.finish(R.combine(R.combine(loadEven(scratch + 2 * o), loadEven(scratch + 2 * o + 1)),
                                               loadEven(scratch + 2 * o + 2)))
                    let out = dst + y * outW + o
                    if o + 16 <= outW { store(v, out) } else { for i in 0..<(outW - o) { out[i] = v[i] } }
                    o += 16
                }
            }
        }
    }

    /// Scratch floats `max3x3Stride2` needs for rows of `width`.
    public static func scratchCount(width: Int) -> Int { roundUpToVector(width) + 64 }

    /// The 3x3, stride-2, padding-1 average pool of the stride-2 shortcut (Fig. 2c), dividing by 9 even at the
    /// border (PyTorch's `count_include_pad=True`).
    public static func average3x3Stride2(channels: Int) -> AveragePool3x3Stride2 {
        AveragePool3x3Stride2(channels: channels)
    }

    /// Mean of each plane's first `pixels` values.
    public static func globalAverage(input: UnsafePointer<Float>, planeStride: Int, channels: Int, pixels: Int,
                                     output: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(pixels)
        for c in 0..<channels {
            let src = input + c * planeStride
            var sum: Float = 0
            for p in 0..<pixels { sum += src[p] }
            output[c] = sum * scale
        }
    }
}

/// A fully connected layer `y = W x + b`, `W` as `[outputs][inputs]`.
public struct DenseLayer: Sendable {
    public let inputs: Int
    public let outputs: Int
    public let weights: [Float]
    public let bias: [Float]?

    public init(weights: [Float], bias: [Float]?, inputs: Int, outputs: Int) {
        self.weights = weights
        self.bias = bias
        self.inputs = inputs
        self.outputs = outputs
    }

    /// Only outputs in `outputRange` are computed (default: all), so threads can split the work.
    /// Uses `KernelVariant.active`; a layer whose arrays do not match its shape computes nothing (the throwing
    /// `run(on:...)` says why).
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, outputRange: Range<Int>? = nil) {
        try? run(on: .active, input: input, output: output, outputRange: outputRange)
    }

    /// `run` on an explicitly chosen kernel variant (tests and benchmarks compare them).
    public func run(on variant: KernelVariant, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                    outputRange: Range<Int>? = nil) throws(KernelCallError) {
        let name = "dense layer"
        try KernelCallError.require(weights.count == inputs * outputs && (bias?.count ?? outputs) == outputs, kernel: name,
                                    "\(weights.count) weights and \(bias?.count ?? 0) biases for \(outputs) outputs x \(inputs) inputs")
        let range = (outputRange ?? 0..<outputs).clamped(to: 0..<outputs)
        var args = sn_dense_args()
        args.input = input
        args.output = output
        args.inputs = inputs
        args.output_begin = range.lowerBound
        args.output_end = range.upperBound
        let code = weights.withUnsafeBufferPointer { w in
            args.weights = w.baseAddress
            guard let bias else { return sn_dense_variant(variant.cValue, &args) }
            return bias.withUnsafeBufferPointer { b in
                args.bias = b.baseAddress
                return sn_dense_variant(variant.cValue, &args)
            }
        }
        try KernelCallError.check(code, variant: variant, kernel: name)
    }
}

/// 3x3 average pool, stride 2, padding 1, dividing by 9 everywhere (PyTorch's `count_include_pad=True`):
/// the separable window of `Pooling` with sums, so no plane is copied.
public struct AveragePool3x3Stride2: Sendable {
    public let channels: Int

    public init(channels: Int) { self.channels = channels }

    /// Same calling convention as `DepthwiseConvolution3x3.run`; `scratch` needs `Pooling.scratchCount(width:)`.
    public func run(input: UnsafePointer<Float>, inputPlaneStride: Int, height: Int, width: Int,
                    output: UnsafeMutablePointer<Float>, outputPlaneStride: Int, scratch: UnsafeMutablePointer<Float>,
                    channelRange: Range<Int>? = nil) {
        Pooling.separable3x3Stride2(SumWindow.self, input: input, inputPlaneStride: inputPlaneStride, height: height,
                                    width: width, output: output, outputPlaneStride: outputPlaneStride, scratch: scratch,
                                    channels: channelRange ?? 0..<channels)
    }
}

/// How a 3x3 window combines its values; a protocol so each pooling gets its own specialised loop.
protocol WindowReduction {
    /// The padding value, which must never change the result (max: -inf; sum: 0).
    static var padding: Float { get }
    static func combine(_ a: Vector, _ b: Vector) -> Vector
    static func combine(_ a: Float, _ b: Float) -> Float
    static func finish(_ v: Vector) -> Vector
}

enum MaximumWindow: WindowReduction {
    static var padding: Float { -.infinity }
    @inline(__always) static func combine(_ a: Vector, _ b: Vector) -> Vector { fastMax(a, b) }
    @inline(__always) static func combine(_ a: Float, _ b: Float) -> Float { Swift.max(a, b) }
    @inline(__always) static func finish(_ v: Vector) -> Vector { v }
}

enum SumWindow: WindowReduction {
    static var padding: Float { 0 }
    @inline(__always) static func combine(_ a: Vector, _ b: Vector) -> Vector { a + b }
    @inline(__always) static func combine(_ a: Float, _ b: Float) -> Float { a + b }
    /// Divide by the full window of 9, padding included.
    @inline(__always) static func finish(_ v: Vector) -> Vector { v * Vector(repeating: 1 / 9) }
}
