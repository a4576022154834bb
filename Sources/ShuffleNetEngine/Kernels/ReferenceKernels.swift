/// Naive, obviously-correct kernels on plain arrays, written straight from the definitions (PyTorch
/// semantics). They exist to check the fast kernels and the fast network against; nothing in the
/// inference path calls them. Layout: one image, channels-major `[C][H][W]`.
package enum ReferenceKernels {
    /// A convolution with `groups` groups, square kernel, zero padding. `weights` is `[O][C/groups][k][k]`.
    package static func convolution(_ input: [Float], channels: Int, height: Int, width: Int,
                                   weights: [Float], outputChannels: Int, kernel: Int, stride: Int,
                                   padding: Int, groups: Int, bias: [Float]? = nil) -> (values: [Float], height: Int, width: Int) {
        let outH = (height + 2 * padding - kernel) / stride + 1
        let outW = (width + 2 * padding - kernel) / stride + 1
        let inPerGroup = channels / groups, outPerGroup = outputChannels / groups
        var out = [Float](repeating: 0, count: outputChannels * outH * outW)
        for o in 0..<outputChannels {
            let g = o / outPerGroup
            for y in 0..<outH {
                for x in 0..<outW {
                    var sum: Float = bias?[o] ?? 0
                    for i in 0..<inPerGroup {
                        let c = g * inPerGroup + i
                        for ky in 0..<kernel {
                            let iy = y * stride + ky - padding
                            if iy < 0 || iy >= height { continue }
                            for kx in 0..<kernel {
                                let ix = x * stride + kx - padding
                                if ix < 0 || ix >= width { continue }
                                sum += weights[((o * inPerGroup + i) * kernel + ky) * kernel + kx]
                                    * input[(c * height + iy) * width + ix]
                            }
                        }
                    }
                    out[(o * outH + y) * outW + x] = sum
                }
            }
        }
        return (out, outH, outW)
    }

    /// Inference-mode BatchNorm: `(x - mean) / sqrt(var + eps) * gamma + beta`, per channel.
    package static func batchNorm(_ x: [Float], channels: Int, gamma: [Float], beta: [Float],
                                 mean: [Float], variance: [Float], epsilon: Float) -> [Float] {
        let plane = x.count / channels
        var out = x
        for c in 0..<channels {
            let inv = 1 / (variance[c] + epsilon).squareRoot()
            for p in 0..<plane { out[c * plane + p] = (x[c * plane + p] - mean[c]) * inv * gamma[c] + beta[c] }
        }
        return out
    }

    package static func relu(_ x: [Float]) -> [Float] { x.map { max($0, 0) } }

    /// Channel shuffle by its definition: view the channels as a `rows x columns` matrix, transpose, flatten.
    /// The paper uses `(groups, channels/groups)`; Megvii's code `(channels/groups, groups)`.
    package static func channelShuffle(_ x: [Float], channels: Int, groups: Int,
                                      convention: ChannelShuffleConvention) -> [Float] {
        let plane = x.count / channels
        let (rows, columns) = convention == .paper ? (groups, channels / groups) : (channels / groups, groups)
        var out = x
        for r in 0..<rows {
            for c in 0..<columns {
                let from = r * columns + c, to = c * rows + r
                for p in 0..<plane { out[to * plane + p] = x[from * plane + p] }
            }
        }
        return out
    }

    /// 3x3 pooling, stride 2, padding 1. Average divides by 9 including the padding (PyTorch's default
    /// `count_include_pad=True`, as Megvii's shortcut uses); max ignores the padding.
    package static func pool3x3Stride2(_ x: [Float], channels: Int, height: Int, width: Int,
                                      maximum: Bool) -> (values: [Float], height: Int, width: Int) {
        let outH = (height - 1) / 2 + 1, outW = (width - 1) / 2 + 1
        var out = [Float](repeating: 0, count: channels * outH * outW)
        for c in 0..<channels {
            for y in 0..<outH {
                for xx in 0..<outW {
                    var acc: Float = maximum ? -.infinity : 0
                    for ky in 0..<3 {
                        let iy = 2 * y + ky - 1
                        if iy < 0 || iy >= height { continue }
                        for kx in 0..<3 {
                            let ix = 2 * xx + kx - 1
                            if ix < 0 || ix >= width { continue }
                            let v = x[(c * height + iy) * width + ix]
                            acc = maximum ? max(acc, v) : acc + v
                        }
                    }
                    out[(c * outH + y) * outW + xx] = maximum ? acc : acc / 9
                }
            }
        }
        return (out, outH, outW)
    }

    package static func globalAveragePool(_ x: [Float], channels: Int) -> [Float] {
        let plane = x.count / channels
        return (0..<channels).map { c in x[(c * plane)..<((c + 1) * plane)].reduce(0, +) / Float(plane) }
    }

    /// `y = W x (+ b)` with `W` as `[outputs][inputs]`.
    package static func linear(_ x: [Float], weights: [Float], outputs: Int, bias: [Float]? = nil) -> [Float] {
        let inputs = x.count
        return (0..<outputs).map { o in
            var sum = bias?[o] ?? 0
            for i in 0..<inputs { sum += weights[o * inputs + i] * x[i] }
            return sum
        }
    }
}

extension ReferenceKernels {
    /// The naive twin of the int8 pointwise kernels, on planar `[channels][pixels]` codes, plain loops, the scheme's
    /// arithmetic literally (Weights/README.md "int8 files"):
    ///
    ///     acc = sum_k W[o][k] * (x[g K + k] - z_in[g K + k])            (Int32)
    ///     v = fma(Float(acc), multiplier[o], bias[o])
    ///     v = fma(Float(r - z_r), s_r, v)                                 (with a residual `[outputs][pixels]`)
    ///     v = max(v, 0)                                                   (with ReLU)
    ///     q = clamp(rint(v * (1 / scale)) + zero_point, 0, 255)          (map per output, or one for all)
    package static func quantizedPointwise(_ x: [UInt8], pixels: Int, weights: [Int8], inputZeroPoints: [UInt8],
                                           multipliers: [Float], bias: [Float], outputScales: [Float], outputZeroPoints: [UInt8],
                                           groups: Int, residual: (codes: [UInt8], zeroPoint: UInt8, scale: Float)?,
                                           relu: Bool) -> [UInt8] {
        let outputs = bias.count, k = weights.count / outputs, m = outputs / groups
        var out = [UInt8](repeating: 0, count: outputs * pixels)
        for o in 0..<outputs {
            let g = o / m
            let map = outputScales.count == 1 ? 0 : o
            for p in 0..<pixels {
                var acc: Int32 = 0
                for i in 0..<k {
                    acc += Int32(weights[o * k + i]) * (Int32(x[(g * k + i) * pixels + p]) - Int32(inputZeroPoints[g * k + i]))
                }
                var v = bias[o].addingProduct(Float(acc), multipliers[o])
                if let residual {
                    v = v.addingProduct(Float(Int32(residual.codes[o * pixels + p]) - Int32(residual.zeroPoint)), residual.scale)
                }
                if relu { v = max(v, 0) }
                let q = (v * (1 / outputScales[map])).rounded(.toNearestOrEven) + Float(outputZeroPoints[map])
                out[o * pixels + p] = UInt8(max(0, min(255, q)))
            }
        }
        return out
    }
}

extension ReferenceKernels {
    /// The naive twin of the int8 depthwise kernels, on planar `[channels][height * width]` codes, plain loops, the
    /// scheme's arithmetic literally, then the shuffle: returns `[channels][outputPixels]` with depthwise channel c
    /// at position `destinations[c]`.
    ///
    ///     acc = sum_taps W[c][t] * (x - z_c)       (Int32; padding taps add nothing)
    ///     v = fma(Float(acc), multiplier[c], bias[c])
    ///     q = clamp(rint(v * (1 / scale[c])) + zero_point[c], 0, 255)
    package static func quantizedDepthwise(_ x: [UInt8], height: Int, width: Int, stride: Int, weights: [Int8],
                                           inputZeroPoints: [UInt8], multipliers: [Float], bias: [Float], outputScales: [Float],
                                           outputZeroPoints: [UInt8], destinations: [Int]) -> [UInt8] {
        let channels = bias.count
        let oh = (height - 1) / stride + 1, ow = (width - 1) / stride + 1
        var out = [UInt8](repeating: 0, count: channels * oh * ow)
        for c in 0..<channels {
            let z = Int32(inputZeroPoints[c])
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var acc: Int32 = 0
                    for ky in 0..<3 {
                        for kx in 0..<3 {
                            let iy = oy * stride + ky - 1, ix = ox * stride + kx - 1
                            guard iy >= 0, iy < height, ix >= 0, ix < width else { continue }
                            acc += Int32(weights[c * 9 + ky * 3 + kx]) * (Int32(x[(c * height + iy) * width + ix]) - z)
                        }
                    }
                    let v = bias[c].addingProduct(Float(acc), multipliers[c])
                    let q = (v * (1 / outputScales[c])).rounded(.toNearestOrEven) + Float(outputZeroPoints[c])
                    out[(destinations[c] * oh + oy) * ow + ox] = UInt8(max(0, min(255, q)))
                }
            }
        }
        return out
    }
}
