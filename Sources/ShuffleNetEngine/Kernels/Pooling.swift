/// Pooling kernels on channel planes (`[C][H][W]` with a plane stride).
public enum Pooling {
    /// 3x3 max pool, stride 2, padding 1 (the padding never wins, as in PyTorch).
    public static func max3x3Stride2(input: UnsafePointer<Float>, inputPlaneStride: Int, channels: Int,
                                     height: Int, width: Int, output: UnsafeMutablePointer<Float>, outputPlaneStride: Int) {
        let outH = (height - 1) / 2 + 1, outW = (width - 1) / 2 + 1
        for c in 0..<channels {
            let src = input + c * inputPlaneStride, dst = output + c * outputPlaneStride
            for y in 0..<outH {
                let y0 = max(2 * y - 1, 0), y1 = min(2 * y + 1, height - 1)
                for x in 0..<outW {
                    let x0 = max(2 * x - 1, 0), x1 = min(2 * x + 1, width - 1)
                    var m = -Float.infinity
                    for yy in y0...y1 {
                        for xx in x0...x1 { m = max(m, src[yy * width + xx]) }
                    }
                    dst[y * outW + x] = m
                }
            }
        }
    }

    /// The 3x3, stride-2, padding-1 average pool of the stride-2 shortcut (Fig. 2c), dividing by 9 even at the
    /// border (PyTorch's `count_include_pad=True`): a depthwise convolution whose taps are all 1/9.
    public static func average3x3Stride2(channels: Int) -> DepthwiseConvolution3x3 {
        DepthwiseConvolution3x3(weights: [Float](repeating: 1.0 / 9.0, count: 9 * channels),
                                bias: [Float](repeating: 0, count: channels), channels: channels, stride: 2)
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

    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        weights.withUnsafeBufferPointer { w in
            let vectorEnd = inputs & ~15
            for o in 0..<outputs {
                let row = w.baseAddress! + o * inputs
                var acc = Vector()
                var i = 0
                while i < vectorEnd {
                    acc = acc.addingProduct(load(row + i), load(input + i))
                    i += 16
                }
                var sum = acc.sum()
                while i < inputs { sum += row[i] * input[i]; i += 1 }
                output[o] = sum + (bias?[o] ?? 0)
            }
        }
    }
}
