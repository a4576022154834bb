/// How `shufflenet quantize --rounding` turns each folded fp32 weight into its `s8` code. The scale of each output
/// channel is `max|w| / 127` either way (the file format and the kernels are unchanged); only the codes differ.
public enum WeightRounding: String, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    /// Each weight to its nearest code, on its own.
    case nearest
    /// GPTQ (Frantar et al. 2022) with the scales fixed: the codes of one output are chosen one input at a time,
    /// and each rounding error is spread over the inputs not yet rounded, weighted by how the calibration photos'
    /// inputs to that layer correlate (their Gram matrix `H = E[x x^T]`), so that the layer's output `W x` on
    /// those inputs changes as little as possible. Measured on Megvii's 0.5x g3 and g8 (Scripts/int8_study-results.md,
    /// "Calibration methods"): lower logit error than nearest rounding on photos not calibrated on.
    case gptq

    /// The default: `gptq`, measured best.
    public static let standard = WeightRounding.gptq

    /// The name `--rounding` reads (`init(rawValue:)`).
    public var description: String { rawValue }
}

/// The Gram matrices `sum x x^T` of every quantized layer's fp32 inputs over the calibration photos, in blocks of
/// inputs that share outputs: per group for the 1x1 convolutions (compress: `firstConvGroups`; expand: `groups`,
/// in the shuffled order expand reads), per channel for the depthwise convolution (its 9 taps, padding 0), one for
/// the classifier. Layer `3u`, `3u + 1`, `3u + 2` as `FoldedNetwork.logits(layer:)` numbers them; the classifier
/// is `classifierIndex`.
package struct LayerGrams: Sendable {
    /// `[layer][block]`, each `K x K` row-major (upper triangle filled, mirrored by `block(_:_:)`).
    package private(set) var sums: [[[Double]]]
    /// Inputs per block of each layer.
    package let sizes: [Int]
    /// Vectors added per layer.
    package private(set) var counts: [Int]
    package let plan: NetworkPlan

    package var classifierIndex: Int { 3 * plan.units.count }

    package init(plan: NetworkPlan) {
        self.plan = plan
        var sums: [[[Double]]] = [], sizes: [Int] = []
        let g = plan.configuration.groups
        for u in plan.units {
            let k0 = u.inputChannels / u.firstConvGroups, k2 = u.bottleneckChannels / g
            sums += [[[Double]](repeating: [Double](repeating: 0, count: k0 * k0), count: u.firstConvGroups),
                     [[Double]](repeating: [Double](repeating: 0, count: 81), count: u.bottleneckChannels),
                     [[Double]](repeating: [Double](repeating: 0, count: k2 * k2), count: g)]
            sizes += [k0, 9, k2]
        }
        sums.append([[Double](repeating: 0, count: plan.finalChannels * plan.finalChannels)])
        sizes.append(plan.finalChannels)
        self.sums = sums
        self.sizes = sizes
        counts = [Int](repeating: 0, count: sizes.count)
    }

    /// Adds layer `index`'s input, `[channels][size * size]` (what `FoldedNetwork.logits(layer:)` passes).
    package mutating func add(layer index: Int, input: [Float], size: Int) {
        let plane = size * size
        let k = sizes[index]
        if index % 3 == 1 && index < classifierIndex {
            // Depthwise: one 9-tap vector per output position and channel.
            let stride = plan.units[index / 3].stride
            let outSize = (size - 1) / stride + 1
            var taps = [Double](repeating: 0, count: 9)
            for ch in 0..<sums[index].count {
                var g = sums[index][ch]
                for oy in 0..<outSize {
                    for ox in 0..<outSize {
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                let iy = oy * stride + ky - 1, ix = ox * stride + kx - 1
                                taps[ky * 3 + kx] = iy < 0 || iy >= size || ix < 0 || ix >= size
                                    ? 0 : Double(input[ch * plane + iy * size + ix])
                            }
                        }
                        for a in 0..<9 where taps[a] != 0 {
                            for b in a..<9 { g[a * 9 + b] += taps[a] * taps[b] }
                        }
                    }
                }
                sums[index][ch] = g
            }
            counts[index] += outSize * outSize
            return
        }
        // A 1x1 convolution (or the classifier, plane 1): per group, dot products of input rows.
        for block in 0..<sums[index].count {
            var g = sums[index][block]
            input.withUnsafeBufferPointer { x in
                for a in 0..<k {
                    let ra = (block * k + a) * plane
                    for b in a..<k {
                        let rb = (block * k + b) * plane
                        var dot: Float = 0
                        for p in 0..<plane { dot += x[ra + p] * x[rb + p] }
                        g[a * k + b] += Double(dot)
                    }
                }
            }
            sums[index][block] = g
        }
        counts[index] += plane
    }

    /// The mean `E[x x^T]` of block `block` of layer `index`, full (both triangles).
    package func block(_ index: Int, _ block: Int) -> [Double] {
        let k = sizes[index], n = Double(max(1, counts[index]))
        var h = sums[index][block]
        for a in 0..<k {
            for b in a..<k {
                h[a * k + b] /= n
                h[b * k + a] = h[a * k + b]
            }
        }
        return h
    }
}

package enum GPTQ {
    /// The lower Cholesky factor of the symmetric positive definite `a` (`n x n`, row-major), or nil.
    package static func cholesky(_ a: [Double], _ n: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var s = a[i * n + j]
                for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                if i == j {
                    guard s > 0, s.isFinite else { return nil }
                    l[i * n + i] = s.squareRoot()
                } else {
                    l[i * n + j] = s / l[j * n + j]
                }
            }
        }
        return l
    }

    /// The upper Cholesky factor `U` of `(h + damping * mean(diag h) * I)^-1` (`U^T U` equals it), what the
    /// column-by-column rounding needs; nil when `h` is zero or not positive definite.
    package static func inverseFactor(_ h: [Double], _ n: Int, damping: Double = 0.01) -> [Double]? {
        var a = h
        var meanDiagonal = 0.0
        for i in 0..<n { meanDiagonal += a[i * n + i] }
        meanDiagonal /= Double(n)
        guard meanDiagonal > 0 else { return nil }
        for i in 0..<n { a[i * n + i] += damping * meanDiagonal }
        guard let l = cholesky(a, n) else { return nil }
        // L^-1 (lower), then A^-1 = L^-T L^-1.
        var li = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            li[j * n + j] = 1 / l[j * n + j]
            for i in (j + 1)..<n {
                var s = 0.0
                for k in j..<i { s -= l[i * n + k] * li[k * n + j] }
                li[i * n + j] = s / l[i * n + i]
            }
        }
        var inverse = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                var s = 0.0
                for k in j..<n { s += li[k * n + i] * li[k * n + j] }
                inverse[i * n + j] = s
                inverse[j * n + i] = s
            }
        }
        guard let m = cholesky(inverse, n) else { return nil }
        var u = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in i..<n { u[i * n + j] = m[j * n + i] } }
        return u
    }

    /// The codes of one output's weights `w` (`K` of them) at the fixed `scale`: input `i` is rounded to nearest
    /// (clamped to -127...127), and its error, divided by `U[i][i]`, is subtracted times `U[i][j]` from every later
    /// weight `j`; `U` from `inverseFactor` (nil: nearest rounding).
    package static func round(_ w: ArraySlice<Float>, scale: Float, factor u: [Double]?) -> [Int8] {
        var v = w.map(Double.init)
        let n = v.count, s = Double(scale)
        var q = [Int8](repeating: 0, count: n)
        for i in 0..<n {
            let code = max(-127, min(127, (v[i] / s).rounded(.toNearestOrEven)))
            q[i] = Int8(code)
            guard let u else { continue }
            let error = (v[i] - code * s) / u[i * n + i]
            for j in (i + 1)..<n { v[j] -= error * u[i * n + j] }
        }
        return q
    }

    /// A layer `[outputs][K]` quantized with per-output scales `max|w| / 127` and GPTQ codes; output `o` uses the
    /// factor `factors[block(o)]`.
    package static func layer(folded weights: [Float], bias: [Float], factors: [[Double]?], block: (Int) -> Int) -> QuantizedConvolution {
        let nearest = QuantizedConvolution(folded: weights, bias: bias)
        let outputs = bias.count, k = outputs > 0 ? weights.count / outputs : 0
        var codes = [Int8]()
        codes.reserveCapacity(weights.count)
        for o in 0..<outputs {
            codes += round(weights[(o * k)..<((o + 1) * k)], scale: nearest.weightScales[o], factor: factors[block(o)])
        }
        return QuantizedConvolution(weights: codes, weightScales: nearest.weightScales, bias: bias)
    }
}
