/// Naive twins of the small int8 operators (`QuantizedPooling`, `QuantizedDenseLayer`), written straight from the
/// scheme's formulas (`QuantizedReferenceNetwork.run`, `ActivationQuantization.quantize`) on planar `[C][H][W]`
/// arrays, independent of the C kernels and of the channel-block layout. Tests compare the kernels with these code
/// for code (and float for float); nothing in the inference path calls them. Slow on purpose.
package enum QuantizedReferenceKernels {
    /// `map.quantize` of every value (planar in, planar out).
    package static func quantize(_ values: [Float], map: ActivationQuantization) -> [UInt8] {
        values.map(map.quantize)
    }

    /// The stride-2 unit's shortcut as the reference network computes it: per channel, a 3x3 window with stride 2 and
    /// padding 1, `sum` of `x - zeroPoint` over the taps inside the plane, `Float(sum) * (inputMap.scale / 9)`
    /// (PyTorch's AvgPool2d(3, 2, 1) divides by 9, padding included), quantized with `outputMap`. Planar
    /// `[channels][height][width]` in, `[channels][(height - 1) / 2 + 1][(width - 1) / 2 + 1]` out.
    package static func average3x3Stride2(_ x: [UInt8], channels: Int, height: Int, width: Int, inputMap: ActivationQuantization,
                                          outputMap: ActivationQuantization) -> [UInt8] {
        let oh = (height - 1) / 2 + 1, ow = (width - 1) / 2 + 1
        let step = inputMap.scale / 9
        var out = [UInt8](repeating: 0, count: channels * oh * ow)
        for ch in 0..<channels {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var sum: Int32 = 0
                    for ky in 0..<3 {
                        let iy = 2 * oy + ky - 1
                        if iy < 0 || iy >= height { continue }
                        for kx in 0..<3 {
                            let ix = 2 * ox + kx - 1
                            if ix < 0 || ix >= width { continue }
                            sum += Int32(x[(ch * height + iy) * width + ix]) - Int32(inputMap.zeroPoint)
                        }
                    }
                    out[(ch * oh + oy) * ow + ox] = outputMap.quantize(Float(sum) * step)
                }
            }
        }
        return out
    }

    /// The global average pool as the reference network computes it: `Float(sum of x - zeroPoint) * scale /
    /// Float(pixels)` per channel (planar `[channels][pixels]` in).
    package static func globalAverage(_ x: [UInt8], channels: Int, pixels: Int, map: ActivationQuantization) -> [Float] {
        (0..<channels).map { ch -> Float in
            var sum: Int32 = 0
            for p in 0..<pixels { sum += Int32(x[ch * pixels + p]) - Int32(map.zeroPoint) }
            return Float(sum) * map.scale / Float(pixels)
        }
    }

    /// The int8 classifier: `fma(Float(acc), multipliers[o], bias[o])`, `acc = sum_k W[o][k] * (x[k] - inputZeroPoint)`
    /// in Int32 (`weights` `[outputs][inputs]`).
    package static func dense(_ x: [UInt8], weights: [Int8], inputZeroPoint: UInt8, multipliers: [Float], bias: [Float]) -> [Float] {
        let inputs = x.count, outputs = bias.count
        return (0..<outputs).map { o -> Float in
            var acc: Int32 = 0
            for k in 0..<inputs { acc += Int32(weights[o * inputs + k]) * (Int32(x[k]) - Int32(inputZeroPoint)) }
            return bias[o].addingProduct(Float(acc), multipliers[o])
        }
    }

    /// The stride-2 concat's channel copy on planar tensors: `groups * perGroup` branch channels `[C][pixels]` placed
    /// after `channelOffset` channels of `into` (`[channelOffset + groups * perGroup + ...][pixels]`); the rest of
    /// `into` unchanged.
    package static func copyChannels(_ x: [UInt8], groups: Int, perGroup: Int, into: [UInt8], channelOffset: Int, pixels: Int) -> [UInt8] {
        var out = into
        for c in 0..<(groups * perGroup) {
            for p in 0..<pixels { out[(channelOffset + c) * pixels + p] = x[c * pixels + p] }
        }
        return out
    }
}
