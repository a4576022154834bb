/// What happens to a pointwise convolution's result before it is stored: fused so the data is touched once.
public enum PointwiseEpilogue {
    /// `y = conv + bias` (a linear layer, e.g. before a residual add done elsewhere).
    case linear
    /// `y = max(conv + bias, 0)`.
    case relu
    /// `y = max(conv + bias + residual, 0)`: the end of a stride-1 ShuffleNet unit (Fig. 2b).
    case addResidualThenReLU(UnsafePointer<Float>, planeStride: Int)
}

/// A grouped 1x1 convolution on channel planes, with BatchNorm already folded into `weights` and `bias`:
///
///     out[o][p] = epilogue(bias[o] + sum_i weights[o][i] * in[group(o) * K + i][p]),   K = inputs / groups
///
/// Within a group this is a matrix product `W_g (outputs/g x K) * X_g (K x pixels)`. The micro-kernel keeps a
/// 4 x 64 block of outputs (16 vector accumulators) in registers and streams over K, so every input vector it
/// loads feeds four FMAs and every weight it broadcasts feeds four. Planes are channel-major with a stride,
/// so concatenation is just an output pointer offset.
public struct PointwiseConvolution: Sendable {
    public let inputChannels: Int
    public let outputChannels: Int
    public let groups: Int
    /// `[outputChannels][inputChannels / groups]`.
    public let weights: [Float]
    public let bias: [Float]

    public init(weights: [Float], bias: [Float], inputChannels: Int, outputChannels: Int, groups: Int) {
        self.weights = weights
        self.bias = bias
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.groups = groups
    }

    /// Runs on `pixels` pixels per plane, rounded up to a multiple of 16: every plane (input, output, residual)
    /// must have room for that many floats.
    /// Only output channels in `outputs` are computed (default: all), so threads can split the work.
    public func run(input: UnsafePointer<Float>, inputPlaneStride: Int,
                    output: UnsafeMutablePointer<Float>, outputPlaneStride: Int,
                    pixels: Int, epilogue: PointwiseEpilogue, outputs: Range<Int>? = nil) {
        let k = inputChannels / groups
        let outPerGroup = outputChannels / groups
        let paddedPixels = roundUpToVector(pixels)
        let range = outputs ?? 0..<outputChannels
        weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                for g in (range.lowerBound / outPerGroup)..<min(groups, (range.upperBound + outPerGroup - 1) / outPerGroup) {
                    let x = input + g * k * inputPlaneStride
                    var o = max(g * outPerGroup, range.lowerBound)
                    let end = min((g + 1) * outPerGroup, range.upperBound)
                    while o + 4 <= end {
                        rows4(x: x, xStride: inputPlaneStride, k: k, w: w.baseAddress! + o * k, b: b.baseAddress! + o,
                              o: o, out: output, outStride: outputPlaneStride, pixels: paddedPixels, epilogue: epilogue)
                        o += 4
                    }
                    while o < end {
                        row1(x: x, xStride: inputPlaneStride, k: k, w: w.baseAddress! + o * k, bias: b[o],
                             o: o, out: output, outStride: outputPlaneStride, pixels: paddedPixels, epilogue: epilogue)
                        o += 1
                    }
                }
            }
        }
    }

    @inline(__always)
    private func finish(_ acc: Vector, bias: Float, o: Int, p: Int, out: UnsafeMutablePointer<Float>,
                        outStride: Int, epilogue: PointwiseEpilogue) {
        var v = acc + Vector(repeating: bias)
        switch epilogue {
        case .linear: break
        case .relu: v = v.replacing(with: 0, where: v .< 0)
        case .addResidualThenReLU(let residual, let stride):
            v += load(residual + o * stride + p)
            v = v.replacing(with: 0, where: v .< 0)
        }
        store(v, out + o * outStride + p)
    }

    /// 64 consecutive pixels of one output channel.
    @inline(__always)
    private func finishRow(_ v0: Vector, _ v1: Vector, _ v2: Vector, _ v3: Vector, bias: Float, o: Int, p: Int,
                           out: UnsafeMutablePointer<Float>, outStride: Int, epilogue: PointwiseEpilogue) {
        finish(v0, bias: bias, o: o, p: p, out: out, outStride: outStride, epilogue: epilogue)
        finish(v1, bias: bias, o: o, p: p + 16, out: out, outStride: outStride, epilogue: epilogue)
        finish(v2, bias: bias, o: o, p: p + 32, out: out, outStride: outStride, epilogue: epilogue)
        finish(v3, bias: bias, o: o, p: p + 48, out: out, outStride: outStride, epilogue: epilogue)
    }

    /// Four output channels at once: 4 x 64 pixels, then 4 x 16 for the rest.
    @inline(__always)
    private func rows4(x: UnsafePointer<Float>, xStride: Int, k: Int, w: UnsafePointer<Float>, b: UnsafePointer<Float>,
                       o: Int, out: UnsafeMutablePointer<Float>, outStride: Int, pixels: Int, epilogue: PointwiseEpilogue) {
        let w0 = w, w1 = w + k, w2 = w + 2 * k, w3 = w + 3 * k
        var p = 0
        while p + 64 <= pixels {
            var a00 = Vector(), a01 = Vector(), a02 = Vector(), a03 = Vector()
            var a10 = Vector(), a11 = Vector(), a12 = Vector(), a13 = Vector()
            var a20 = Vector(), a21 = Vector(), a22 = Vector(), a23 = Vector()
            var a30 = Vector(), a31 = Vector(), a32 = Vector(), a33 = Vector()
            var xp = x + p
            for i in 0..<k {
                let x0 = load(xp), x1 = load(xp + 16), x2 = load(xp + 32), x3 = load(xp + 48)
                let c0 = Vector(repeating: w0[i]), c1 = Vector(repeating: w1[i])
                let c2 = Vector(repeating: w2[i]), c3 = Vector(repeating: w3[i])
                a00 = a00.addingProduct(x0, c0); a01 = a01.addingProduct(x1, c0)
                a02 = a02.addingProduct(x2, c0); a03 = a03.addingProduct(x3, c0)
                a10 = a10.addingProduct(x0, c1); a11 = a11.addingProduct(x1, c1)
                a12 = a12.addingProduct(x2, c1); a13 = a13.addingProduct(x3, c1)
                a20 = a20.addingProduct(x0, c2); a21 = a21.addingProduct(x1, c2)
                a22 = a22.addingProduct(x2, c2); a23 = a23.addingProduct(x3, c2)
                a30 = a30.addingProduct(x0, c3); a31 = a31.addingProduct(x1, c3)
                a32 = a32.addingProduct(x2, c3); a33 = a33.addingProduct(x3, c3)
                xp += xStride
            }
            finishRow(a00, a01, a02, a03, bias: b[0], o: o, p: p, out: out, outStride: outStride, epilogue: epilogue)
            finishRow(a10, a11, a12, a13, bias: b[1], o: o + 1, p: p, out: out, outStride: outStride, epilogue: epilogue)
            finishRow(a20, a21, a22, a23, bias: b[2], o: o + 2, p: p, out: out, outStride: outStride, epilogue: epilogue)
            finishRow(a30, a31, a32, a33, bias: b[3], o: o + 3, p: p, out: out, outStride: outStride, epilogue: epilogue)
            p += 64
        }
        while p < pixels {
            var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector()
            var xp = x + p
            for i in 0..<k {
                let x0 = load(xp)
                a0 = a0.addingProduct(x0, Vector(repeating: w0[i]))
                a1 = a1.addingProduct(x0, Vector(repeating: w1[i]))
                a2 = a2.addingProduct(x0, Vector(repeating: w2[i]))
                a3 = a3.addingProduct(x0, Vector(repeating: w3[i]))
                xp += xStride
            }
            finish(a0, bias: b[0], o: o, p: p, out: out, outStride: outStride, epilogue: epilogue)
            finish(a1, bias: b[1], o: o + 1, p: p, out: out, outStride: outStride, epilogue: epilogue)
            finish(a2, bias: b[2], o: o + 2, p: p, out: out, outStride: outStride, epilogue: epilogue)
            finish(a3, bias: b[3], o: o + 3, p: p, out: out, outStride: outStride, epilogue: epilogue)
            p += 16
        }
    }

    /// One output channel (the remainder when a group's outputs are not a multiple of 4).
    @inline(__always)
    private func row1(x: UnsafePointer<Float>, xStride: Int, k: Int, w: UnsafePointer<Float>, bias: Float,
                      o: Int, out: UnsafeMutablePointer<Float>, outStride: Int, pixels: Int, epilogue: PointwiseEpilogue) {
        var p = 0
        while p < pixels {
            var a = Vector()
            var xp = x + p
            for i in 0..<k {
                a = a.addingProduct(load(xp), Vector(repeating: w[i]))
                xp += xStride
            }
            finish(a, bias: bias, o: o, p: p, out: out, outStride: outStride, epilogue: epilogue)
            p += 16
        }
    }
}
