import CKernels

/// Pooling kernels on channel planes (`[C][H][W]` with a plane stride).
package enum Pooling {
    /// 3x3 max pool, stride 2, padding 1 (the padding never wins, as in PyTorch), for channels in `channelRange`
    /// and output rows in `rows` (default: all). Input row r of a plane is read at `(r - inputRowBase) * width`, so
    /// `input` may hold only the rows that `rows` covers. Runs `sn_f32_pool3x3s2` on `KernelVariant.active`.
    package static func max3x3Stride2(input: UnsafePointer<Float>, inputPlaneStride: Int, inputRowBase: Int = 0,
                                     channels: Int, height: Int, width: Int, output: UnsafeMutablePointer<Float>,
                                     outputPlaneStride: Int, channelRange: Range<Int>? = nil, rows: Range<Int>? = nil, variant: KernelVariant = .active) {
        KernelCallError.trapOnFailure { () throws(KernelCallError) in try max3x3Stride2(on: variant, input: input, inputPlaneStride: inputPlaneStride, inputRowBase: inputRowBase,
                           channels: channels, height: height, width: width, output: output,
                           outputPlaneStride: outputPlaneStride, channelRange: channelRange, rows: rows) }
    }

    /// `max3x3Stride2` on an explicitly chosen kernel variant (tests and benchmarks compare them).
    package static func max3x3Stride2(on variant: KernelVariant, input: UnsafePointer<Float>, inputPlaneStride: Int,
                                     inputRowBase: Int = 0, channels: Int, height: Int, width: Int,
                                     output: UnsafeMutablePointer<Float>, outputPlaneStride: Int,
                                     channelRange: Range<Int>? = nil, rows: Range<Int>? = nil) throws(KernelCallError) {
        try window3x3Stride2(SN_POOL_MAX, on: variant, input: input, inputPlaneStride: inputPlaneStride,
                             inputRowBase: inputRowBase, height: height, width: width, output: output,
                             outputPlaneStride: outputPlaneStride, channels: (channelRange ?? 0..<channels).clamped(to: 0..<channels),
                             rows: rows)
    }

    /// A 3x3, stride-2, padding-1 window reduction (`sn_f32_pool3x3s2` in CKernels) on an explicit variant.
    static func window3x3Stride2(_ kind: sn_pool_kind, on variant: KernelVariant, input: UnsafePointer<Float>,
                                 inputPlaneStride: Int, inputRowBase: Int = 0, height: Int, width: Int,
                                 output: UnsafeMutablePointer<Float>, outputPlaneStride: Int, channels: Range<Int>,
                                 rows: Range<Int>? = nil) throws(KernelCallError) {
        let name = kind == SN_POOL_MAX ? "3x3 max pool" : "3x3 average pool"
        let set = try KernelCallError.kernelSet(variant, kernel: name)
        try KernelCallError.require(height >= 1 && width >= 1, kernel: name, "empty \(height)x\(width) input")
        let outH = (height - 1) / 2 + 1
        let rows = (rows ?? 0..<outH).clamped(to: 0..<outH)
        var args = sn_pool3x3s2_args()
        args.input = input
        args.input_plane_stride = inputPlaneStride
        args.input_row_base = inputRowBase
        args.height = height
        args.width = width
        args.output = output
        args.output_plane_stride = outputPlaneStride
        args.channel_begin = channels.lowerBound
        args.channel_end = channels.upperBound
        args.row_begin = rows.lowerBound
        args.row_end = rows.upperBound
        args.kind = kind
        try KernelCallError.check(sn_f32_pool3x3s2(set.pool, &args), variant: variant, kernel: name)
    }

    /// The 3x3, stride-2, padding-1 average pool of the stride-2 shortcut (Fig. 2c), dividing by 9 even at the
    /// border (PyTorch's `count_include_pad=True`).
    package static func average3x3Stride2(channels: Int) -> AveragePool3x3Stride2 {
        AveragePool3x3Stride2(channels: channels)
    }

    /// Mean of each plane's first `pixels` values.
    package static func globalAverage(input: UnsafePointer<Float>, planeStride: Int, channels: Int, pixels: Int,
                                     output: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(pixels)
        for c in 0..<channels {
            let src = input + c * planeStride
            var partial = Vector(repeating: 0)
            var p = 0
            while p + 16 <= pixels { partial += load(src + p); p += 16 }
            var sum = partial.sum()
            while p < pixels { sum += src[p]; p += 1 }
            output[c] = sum * scale
        }
    }
}

/// A fully connected layer `y = W x + b`, `W` as `[outputs][inputs]`, in fp32 arithmetic; the weights are kept as
/// floats or as binary16 (`halfWeights`: half the memory, converted exactly as they are read; the int8 recheck
/// network's classifier).
package struct DenseLayer: Sendable {
    package let inputs: Int
    package let outputs: Int
    /// `[outputs][inputs]`, as floats or as binary16 bit patterns.
    private enum Weights: Sendable {
        case float([Float])
        case half([UInt16])
    }
    private let weights: Weights
    package let bias: [Float]?

    package init(weights: [Float], bias: [Float]?, inputs: Int, outputs: Int) {
        self.weights = .float(weights)
        self.bias = bias
        self.inputs = inputs
        self.outputs = outputs
    }

    /// A layer whose weights stay binary16 (`sn_f16_dense`).
    package init(halfWeights: [UInt16], bias: [Float]?, inputs: Int, outputs: Int) {
        weights = .half(halfWeights)
        self.bias = bias
        self.inputs = inputs
        self.outputs = outputs
    }

    /// Only outputs in `outputRange` are computed (default: all), so threads can split the work.
    /// Uses `KernelVariant.active`; arguments that do not fit the layer are a bug in the caller and stop the
    /// program (`KernelCallError.trapOnFailure`; the throwing `run(on:...)` reports them instead).
    package func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, outputRange: Range<Int>? = nil, variant: KernelVariant = .active) {
        KernelCallError.trapOnFailure { () throws(KernelCallError) in try run(on: variant, input: input, output: output, outputRange: outputRange) }
    }

    /// `run` on an explicitly chosen kernel variant (tests and benchmarks compare them).
    package func run(on variant: KernelVariant, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                    outputRange: Range<Int>? = nil) throws(KernelCallError) {
        let name: String, count: Int
        switch weights {
        case .float(let w): (name, count) = ("dense layer", w.count)
        case .half(let w): (name, count) = ("dense layer (binary16 weights)", w.count)
        }
        let set = try KernelCallError.kernelSet(variant, kernel: name)
        try KernelCallError.require(count == inputs * outputs && (bias?.count ?? outputs) == outputs, kernel: name,
                                    "\(count) weights and \(bias?.count ?? 0) biases for \(outputs) outputs x \(inputs) inputs")
        let range = (outputRange ?? 0..<outputs).clamped(to: 0..<outputs)
        var args = sn_dense_args()
        args.input = input
        args.output = output
        args.inputs = inputs
        args.output_begin = range.lowerBound
        args.output_end = range.upperBound
        func call(_ args: inout sn_dense_args) -> Int32 {
            guard let bias else { return dense(&args) }
            return bias.withUnsafeBufferPointer { b in
                args.bias = b.baseAddress
                return dense(&args)
            }
        }
        func dense(_ args: inout sn_dense_args) -> Int32 {
            switch weights {
            case .float(let w):
                return w.withUnsafeBufferPointer { p in
                    args.weights = p.baseAddress
                    return sn_f32_dense(set.dense, &args)
                }
            case .half(let w):
                return w.withUnsafeBufferPointer { p in
                    args.half_weights = p.baseAddress
                    return sn_f16_dense(set.dense_f16, &args)
                }
            }
        }
        let code = call(&args)
        try KernelCallError.check(code, variant: variant, kernel: name)
    }
}

/// 3x3 average pool, stride 2, padding 1, dividing by 9 everywhere (PyTorch's `count_include_pad=True`).
package struct AveragePool3x3Stride2: Sendable {
    package let channels: Int

    package init(channels: Int) { self.channels = channels }

    /// Channels in `channelRange` (default: all), on `KernelVariant.active`.
    package func run(input: UnsafePointer<Float>, inputPlaneStride: Int, height: Int, width: Int,
                    output: UnsafeMutablePointer<Float>, outputPlaneStride: Int, channelRange: Range<Int>? = nil, variant: KernelVariant = .active) {
        KernelCallError.trapOnFailure { () throws(KernelCallError) in try run(on: variant, input: input, inputPlaneStride: inputPlaneStride, height: height, width: width,
                 output: output, outputPlaneStride: outputPlaneStride, channelRange: channelRange) }
    }

    /// `run` on an explicitly chosen kernel variant (tests and benchmarks compare them).
    package func run(on variant: KernelVariant, input: UnsafePointer<Float>, inputPlaneStride: Int, height: Int, width: Int,
                    output: UnsafeMutablePointer<Float>, outputPlaneStride: Int,
                    channelRange: Range<Int>? = nil) throws(KernelCallError) {
        try Pooling.window3x3Stride2(SN_POOL_AVERAGE, on: variant, input: input, inputPlaneStride: inputPlaneStride,
                                     height: height, width: width, output: output, outputPlaneStride: outputPlaneStride,
                                     channels: (channelRange ?? 0..<channels).clamped(to: 0..<channels))
    }
}
