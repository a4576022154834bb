/// Where the int8 network stores a `u8` activation: conv1's pooled output, then per unit the output of compress
/// (after its ReLU), of the depthwise convolution, and of the unit; last the pooled features the classifier
/// reads. `index` orders them as the network runs.
package enum QuantizationPoint: Hashable, Sendable {
    case stemOutput
    case compressOutput(unit: Int)
    case depthwiseOutput(unit: Int)
    case unitOutput(unit: Int)
    case pooledFeatures(units: Int)

    package var index: Int {
        switch self {
        case .stemOutput: 0
        case .compressOutput(let u): 1 + 3 * u
        case .depthwiseOutput(let u): 2 + 3 * u
        case .unitOutput(let u): 3 + 3 * u
        case .pooledFeatures(let units): 1 + 3 * units
        }
    }

    /// The point's values can be negative (the depthwise output has no ReLU); all others follow a ReLU.
    package var isSigned: Bool { if case .depthwiseOutput = self { true } else { false } }

    package static func count(units: Int) -> Int { 2 + 3 * units }
}

/// How `shufflenet quantize --method` turns the calibration photos' activations into each tensor's range.
public enum CalibrationMethod: Sendable, Equatable, CustomStringConvertible {
    /// The smallest and largest value seen: nothing is clipped, rare outliers widen every step.
    case minMax
    /// The given percentile of the values seen (and the mirror one below, for signed tensors): clips the rare
    /// largest values to give the rest finer steps. 99.999 measured best of the percentiles (Scripts/int8_study.md).
    case percentile(Double)
    /// The range whose quantization error is smallest on the values seen: values inside cost `step^2 / 12`
    /// (uniform rounding error), values outside `(v - bound)^2` (clipping); the bounds are searched among the
    /// largest (and, signed, smallest) values kept, so at most the `capacity` extreme values of a map are clipped.
    case mse

    /// The default: `mse`. With GPTQ rounding it agreed with fp32's top-1 on the most unseen photos for both
    /// Megvii checkpoints (Scripts/int8_study-results.md, "Calibration methods").
    public static let standard = CalibrationMethod.mse

    /// `minmax`, `percentile` (99.999), `percentile:P` or `mse`.
    public init?(name: String) {
        switch name {
        case "minmax": self = .minMax
        case "mse": self = .mse
        case "percentile": self = .percentile(99.999)
        default:
            guard name.hasPrefix("percentile:"), let p = Double(name.dropFirst("percentile:".count)), p > 50, p <= 100 else { return nil }
            self = .percentile(p)
        }
    }

    /// The name `init(name:)` reads.
    public var description: String {
        switch self {
        case .minMax: "minmax"
        case .mse: "mse"
        case .percentile(let p): p == 99.999 ? "percentile" : "percentile:\(p)"
        }
    }
}

/// The activations of calibration photos at every `QuantizationPoint`: per channel, the mean (for bias
/// correction); per map (one per tensor, or one per channel inside a unit), the count, the smallest and largest
/// values and the `capacity` largest and smallest ones (a min-heap and a max-heap), from which a percentile
/// `p` is the `ceil((1 - p/100) n)`-th largest value, or the `capacity`-th when that rank is deeper (a slightly
/// wider range, only for calibration sets far beyond hundreds of photos). Deterministic: no sampling.
package struct ActivationStatistics: Sendable {
    package struct Tails: Sendable {
        var count = 0
        var largest: [Float] = []   // min-heap: largest[0] is the smallest kept
        var smallest: [Float] = []  // max-heap of negated values
        let capacity: Int

        init(capacity: Int) { self.capacity = capacity }

        @inline(__always)
        mutating func add(_ v: Float) {
            count += 1
            Self.push(&largest, v, capacity)
            Self.push(&smallest, -v, capacity)
        }

        /// Keeps the `capacity` largest values of everything pushed, as a binary min-heap.
        @inline(__always)
        static func push(_ heap: inout [Float], _ v: Float, _ capacity: Int) {
            if heap.count == capacity {
                guard v > heap[0] else { return }
                heap[0] = v
                var i = 0
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < heap.count, heap[l] < heap[m] { m = l }
                    if r < heap.count, heap[r] < heap[m] { m = r }
                    if m == i { break }
                    heap.swapAt(i, m)
                    i = m
                }
            } else {
                heap.append(v)
                var i = heap.count - 1
                while i > 0, heap[(i - 1) / 2] > heap[i] {
                    heap.swapAt(i, (i - 1) / 2)
                    i = (i - 1) / 2
                }
            }
        }

        /// The MSE-optimal range (`CalibrationMethod.mse`): `(lower, upper)`, `lower` 0 unless `signed`. Candidate
        /// bounds are the kept extreme values (clipping at one of them clips the values beyond it); the cost of a
        /// range is `inside * step^2 / 12 + sum over clipped (v - bound)^2`, `step = (upper - lower) / 255`,
        /// both bounds widened to include 0 as `ActivationQuantization` does.
        func mseRange(signed: Bool) -> (lower: Float, upper: Float) {
            // Descending values beyond each candidate: candidate i clips the i largest values.
            func candidates(_ heap: [Float], negate: Bool) -> (bounds: [Double], clipped: [Double]) {
                let values = heap.sorted(by: >).map { Double(negate ? -$0 : $0) }  // farthest from 0 first
                var bounds: [Double] = [], cost: [Double] = []
                var sum = 0.0, squares = 0.0
                for (i, v) in values.enumerated() {
                    // Clip at v: the i values before it lie beyond.
                    let n = Double(i)
                    bounds.append(v)
                    cost.append(squares - 2 * v * sum + n * v * v)
                    sum += v
                    squares += v * v
                }
                return (bounds, cost)
            }
            guard count > 0 else { return (0, 0) }
            let upper = candidates(largest, negate: false)
            let lower = signed ? candidates(smallest, negate: true) : (bounds: [0.0], clipped: [0.0])
            var best = Double.infinity, range: (Float, Float) = (0, 0)
            for (li, lo0) in lower.bounds.enumerated() {
                let lo = min(lo0, 0)
                for (hi_, hi0) in upper.bounds.enumerated() {
                    let hi = max(hi0, 0)
                    let step = (hi - lo) / 255
                    let inside = Double(count - hi_ - (signed ? li : 0))
                    let cost = inside * step * step / 12 + upper.clipped[hi_] + lower.clipped[li]
                    if cost < best {
                        best = cost
                        range = (Float(lo), Float(hi))
                    }
                }
            }
            return range
        }

        /// The upper percentile `p` (and with `lower`, the mirror one below).
        func value(percentile p: Double?, lower: Bool) -> Float {
            let heap = (lower ? smallest : largest).sorted(by: >)
            guard !heap.isEmpty else { return 0 }
            let rank = p.map { max(1, Int(((100 - $0) / 100 * Double(count)).rounded(.up))) } ?? 1
            let v = heap[min(rank, heap.count) - 1]
            return lower ? -v : v
        }
    }

    package private(set) var tails: [[Tails]]
    package private(set) var sums: [[Double]]
    package private(set) var counts: [Int]
    package private(set) var images = 0

    /// `channels[point]` channels; `perChannel[point]`: one map per channel (else one per tensor).
    package init(channels: [Int], perChannel: [Bool], capacity: Int = 256, tensorCapacity: Int = 4096) {
        tails = zip(channels, perChannel).map { c, each in
            [Tails](repeating: Tails(capacity: each ? capacity : tensorCapacity), count: each ? c : 1)
        }
        sums = channels.map { [Double](repeating: 0, count: $0) }
        counts = [Int](repeating: 0, count: channels.count)
    }

    /// The points of `plan`, with the scheme's granularity.
    package init(plan: NetworkPlan) {
        var channels = [plan.configuration.stemChannels], perChannel = [false]
        for u in plan.units {
            channels += [u.bottleneckChannels, u.bottleneckChannels, u.outputChannels]
            perChannel += [true, true, false]
        }
        channels.append(plan.finalChannels)
        perChannel.append(false)
        self.init(channels: channels, perChannel: perChannel)
    }

    /// One image's `[channels][plane]` tensor at `point`.
    package mutating func add(_ point: Int, _ values: [Float]) {
        let channels = sums[point].count
        let plane = values.count / channels
        let each = tails[point].count > 1
        counts[point] += plane
        for c in 0..<channels {
            var sum = 0.0
            for p in 0..<plane {
                let v = values[c * plane + p]
                sum += Double(v)
                tails[point][each ? c : 0].add(v)
            }
            sums[point][c] += sum
        }
    }

    package mutating func finishImage() { images += 1 }

    /// The mean of each channel at `point`.
    package func means(_ point: Int) -> [Float] { sums[point].map { Float($0 / Double(max(1, counts[point]))) } }

    /// The maps of `point` (one, or one per channel) under `method`; post-ReLU points get zero point 0.
    package func maps(_ point: Int, signed: Bool, method: CalibrationMethod) -> [ActivationQuantization] {
        tails[point].map { t in
            if method == .mse {
                let (lo, hi) = t.mseRange(signed: signed)
                return ActivationQuantization(lower: lo, upper: hi)
            }
            let p: Double? = if case .percentile(let q) = method { q } else { nil }
            let hi = t.value(percentile: p, lower: false)
            let lo = signed ? t.value(percentile: p, lower: true) : 0
            return ActivationQuantization(lower: lo, upper: hi)
        }
    }
}

/// One convolution with its BatchNorm folded in: `[outputs][perOutput]` weights, row-major, and one bias per output.
package typealias FoldedLayerWeights = (weights: [Float], bias: [Float])

/// ShuffleNet v1 with BatchNorm folded, in fp32, computed with the naive reference kernels: what int8 quantizes,
/// and the network whose activations calibrate it.
package struct FoldedNetwork: Sendable {
    package struct Unit: Sendable {
        package let compress: (weights: [Float], bias: [Float])
        package let depthwise: (weights: [Float], bias: [Float])
        package let expand: (weights: [Float], bias: [Float])
    }
    package let plan: NetworkPlan
    package let stem: (weights: [Float], bias: [Float])
    package private(set) var units: [Unit]
    package private(set) var classifierWeights: [Float]
    package let classifierBias: [Float]?

    package init(weights: ShuffleNetWeights) {
        plan = NetworkPlan(configuration: weights.configuration)
        let eps = weights.batchNormEpsilon
        func folded(_ conv: String, _ bn: String, outputs: Int) -> (weights: [Float], bias: [Float]) {
            ShuffleNetModel.foldBatchNorm(weights: weights.tensor(conv), outputs: outputs, gamma: weights.tensor("\(bn).weight"),
                                          beta: weights.tensor("\(bn).bias"), mean: weights.tensor("\(bn).running_mean"),
                                          variance: weights.tensor("\(bn).running_var"), epsilon: eps)
        }
        let c = weights.configuration
        stem = folded("first_conv.0.weight", "first_conv.1", outputs: c.stemChannels)
        units = plan.units.map { u in
            let p = "features.\(u.index)"
            return Unit(compress: folded("\(p).branch_main_1.0.weight", "\(p).branch_main_1.1", outputs: u.bottleneckChannels),
                        depthwise: folded("\(p).branch_main_1.3.weight", "\(p).branch_main_1.4", outputs: u.bottleneckChannels),
                        expand: folded("\(p).branch_main_2.0.weight", "\(p).branch_main_2.1", outputs: u.branchChannels))
        }
        classifierWeights = weights.tensor("classifier.0.weight")
        classifierBias = c.classifierHasBias ? weights.tensor("classifier.0.bias") : nil
    }

    /// The same network with every weight but conv1's passed through `transform` (biases unchanged): e.g. rounded to
    /// binary16, the network a recheck computes (`RecheckWeights`).
    package func transformingWeights(_ transform: (Float) -> Float) -> FoldedNetwork {
        var copy = self
        copy.units = units.map { u in
            Unit(compress: (u.compress.weights.map(transform), u.compress.bias),
                 depthwise: (u.depthwise.weights.map(transform), u.depthwise.bias),
                 expand: (u.expand.weights.map(transform), u.expand.bias))
        }
        copy.classifierWeights = classifierWeights.map(transform)
        return copy
    }

    /// Logits of one `[3][224][224]` input; `observe(point, values)` sees every `QuantizationPoint`'s tensor.
    /// `layer(index, input, size, output)` sees each layer's fp32 input (`size x size` planes; the shuffled one
    /// for expand) and its output before the activation (layer `3u`, `3u + 1`, `3u + 2`).
    package func logits(for input: [Float], means: PreActivationMeans? = nil,
                        layer: (Int, [Float], Int, [Float]) -> Void = { _, _, _, _ in },
                        observe: (QuantizationPoint, [Float]) -> Void = { _, _ in }) -> [Float] {
        let c = plan.configuration
        var size = plan.inputSize
        let conv1 = ReferenceKernels.convolution(input, channels: 3, height: size, width: size, weights: stem.weights,
                                                 outputChannels: c.stemChannels, kernel: 3, stride: 2, padding: 1, groups: 1,
                                                 bias: stem.bias)
        let pooled = ReferenceKernels.pool3x3Stride2(ReferenceKernels.relu(conv1.values), channels: c.stemChannels,
                                                     height: conv1.height, width: conv1.width, maximum: true)
        var x = pooled.values
        size = pooled.height
        observe(.stemOutput, x)
        for (u, folded) in zip(plan.units, units) {
            let a = ReferenceKernels.convolution(x, channels: u.inputChannels, height: size, width: size, weights: folded.compress.weights,
                                                 outputChannels: u.bottleneckChannels, kernel: 1, stride: 1, padding: 0,
                                                 groups: u.firstConvGroups, bias: folded.compress.bias)
            means?.add(3 * u.index, a.values)
            layer(3 * u.index, x, size, a.values)
            let compressed = ReferenceKernels.relu(a.values)
            observe(.compressOutput(unit: u.index), compressed)
            let d = ReferenceKernels.convolution(compressed, channels: u.bottleneckChannels, height: size, width: size,
                                                 weights: folded.depthwise.weights, outputChannels: u.bottleneckChannels, kernel: 3,
                                                 stride: u.stride, padding: 1, groups: u.bottleneckChannels, bias: folded.depthwise.bias)
            means?.add(3 * u.index + 1, d.values)
            layer(3 * u.index + 1, compressed, size, d.values)
            observe(.depthwiseOutput(unit: u.index), d.values)
            let shuffled = c.groups > 1
                ? ReferenceKernels.channelShuffle(d.values, channels: u.bottleneckChannels, groups: c.groups, convention: c.shuffle)
                : d.values
            let e = ReferenceKernels.convolution(shuffled, channels: u.bottleneckChannels, height: d.height, width: d.width,
                                                 weights: folded.expand.weights, outputChannels: u.branchChannels, kernel: 1, stride: 1,
                                                 padding: 0, groups: c.groups, bias: folded.expand.bias)
            means?.add(3 * u.index + 2, e.values)
            layer(3 * u.index + 2, shuffled, d.height, e.values)
            if u.stride == 1 {
                x = ReferenceKernels.relu(zip(e.values, x).map { $0 + $1 })
            } else {
                x = ReferenceKernels.pool3x3Stride2(x, channels: u.inputChannels, height: size, width: size, maximum: false).values
                    + ReferenceKernels.relu(e.values)
            }
            size = d.height
            observe(.unitOutput(unit: u.index), x)
        }
        let features = ReferenceKernels.globalAveragePool(x, channels: plan.finalChannels)
        observe(.pooledFeatures(units: plan.units.count), features)
        return ReferenceKernels.linear(features, weights: classifierWeights, outputs: c.numClasses, bias: classifierBias)
    }

    /// Quantizes the folded weights with the activation maps `statistics` and `method` give (the scheme of
    /// `ActivationQuantization`): per-channel maps inside units, the depthwise output's scales folded into the
    /// expand weights (permuted by the shuffle), every bias corrected for its weights' rounding.
    ///
    /// With `grams` (the Gram matrices of every layer's fp32 input on the calibration photos) and `rounding`
    /// `.gptq`, the weight codes are GPTQ's (`WeightRounding`); otherwise each is rounded to nearest.
    package func quantized(statistics: ActivationStatistics, method: CalibrationMethod, metadata: [String: String],
                           rounding: WeightRounding = .nearest, grams: LayerGrams? = nil,
                           recheckWeights: Bool = true) throws(WeightsError) -> QuantizedWeights {
        let c = plan.configuration
        func maps(_ point: QuantizationPoint) -> [ActivationQuantization] {
            statistics.maps(point.index, signed: point.isSigned, method: method)
        }
        let gptq = rounding == .gptq ? grams : nil
        /// The GPTQ factors of each block of layer `index` (nil entries: nearest rounding), `scale(block, a)`
        /// dividing input `a` of a block when the quantized weights see it in other units (expand).
        func factors(_ index: Int, scale: ((Int, Int) -> Double)? = nil) -> [[Double]?] {
            guard let gptq else { return [nil] }
            let k = gptq.sizes[index]
            return (0..<gptq.sums[index].count).map { b in
                var h = gptq.block(index, b)
                if let scale {
                    for i in 0..<k { for j in 0..<k { h[i * k + j] /= scale(b, i) * scale(b, j) } }
                }
                return GPTQ.inverseFactor(h, k)
            }
        }
        /// Quantizes `weights` ([outputs][perOutput]) and corrects the bias: `mean(o, k)` is the expected value of
        /// what weight `k` of output `o` multiplies, in the units the quantized weight sees. Output `o` rounds
        /// with `factors[block(o)]` (GPTQ) when there are factors.
        func layer(_ weights: [Float], _ bias: [Float], factors: [[Double]?] = [nil], block: (Int) -> Int = { _ in 0 },
                   mean: (Int, Int) -> Float) -> QuantizedConvolution {
            let q = factors.contains(where: { $0 != nil })
                ? GPTQ.layer(folded: weights, bias: bias, factors: factors, block: block)
                : QuantizedConvolution(folded: weights, bias: bias)
            let perOutput = weights.count / max(1, bias.count)
            var corrected = bias
            for o in 0..<bias.count {
                var shift = 0.0
                for k in 0..<perOutput {
                    let error = Double(q.weightScales[o]) * Double(q.weights[o * perOutput + k]) - Double(weights[o * perOutput + k])
                    shift += error * Double(mean(o, k))
                }
                corrected[o] = Float(Double(bias[o]) - shift)
            }
            return QuantizedConvolution(weights: q.weights, weightScales: q.weightScales, bias: corrected)
        }
        var inputMeans = statistics.means(QuantizationPoint.stemOutput.index)
        var quantizedUnits: [QuantizedUnit] = []
        for (u, folded) in zip(plan.units, units) {
            let inPerGroup = u.inputChannels / u.firstConvGroups, outPerGroup = u.bottleneckChannels / u.firstConvGroups
            let x = inputMeans
            let compress = layer(folded.compress.weights, folded.compress.bias, factors: factors(3 * u.index),
                                 block: { $0 / outPerGroup }) { o, k in x[(o / outPerGroup) * inPerGroup + k] }
            let compressMeans = statistics.means(QuantizationPoint.compressOutput(unit: u.index).index)
            // Taps in the padding see 0; the channel's mean stands for every tap.
            let depthwise = layer(folded.depthwise.weights, folded.depthwise.bias, factors: factors(3 * u.index + 1),
                                  block: { $0 }) { o, _ in compressMeans[o] }
            let depthwiseMaps = maps(.depthwiseOutput(unit: u.index))
            let depthwiseMeans = statistics.means(QuantizationPoint.depthwiseOutput(unit: u.index).index)
            // Input j of expand is depthwise channel source[j] after the shuffle.
            var source = Array(0..<u.bottleneckChannels)
            if c.groups > 1 {
                for (channel, destination) in c.shuffle.destinations(channels: u.bottleneckChannels, groups: c.groups).enumerated() {
                    source[destination] = channel
                }
            }
            let expandIn = u.bottleneckChannels / c.groups, expandOutPerGroup = u.branchChannels / c.groups
            var scaled = folded.expand.weights
            for o in 0..<u.branchChannels {
                for k in 0..<expandIn {
                    scaled[o * expandIn + k] *= depthwiseMaps[source[(o / expandOutPerGroup) * expandIn + k]].scale
                }
            }
            // In code units: E[q - z] = E[x] / s.
            // Its Gram matrix is of the real (shuffled) inputs; the scaled weights see them in code units.
            let expandFactors = factors(3 * u.index + 2) { b, a in Double(depthwiseMaps[source[b * expandIn + a]].scale) }
            let expand = layer(scaled, folded.expand.bias, factors: expandFactors, block: { $0 / expandOutPerGroup }) { o, k in
                let j = source[(o / expandOutPerGroup) * expandIn + k]
                return depthwiseMeans[j] / depthwiseMaps[j].scale
            }
            quantizedUnits.append(QuantizedUnit(compress: compress, depthwise: depthwise, expand: expand,
                                                compressOutput: maps(.compressOutput(unit: u.index)), depthwiseOutput: depthwiseMaps,
                                                output: maps(.unitOutput(unit: u.index))[0]))
            inputMeans = statistics.means(QuantizationPoint.unitOutput(unit: u.index).index)
        }
        var metadata = metadata
        metadata[QuantizedWeights.methodKey] = method.description
        metadata[QuantizedWeights.roundingKey] = gptq == nil ? WeightRounding.nearest.description : rounding.description
        metadata[QuantizedWeights.calibrationImagesKey] = "\(statistics.images)"
        // The classifier reads the pooled features as u8 (one map); its bias (0 when it has none) is corrected too.
        let featuresPoint = QuantizationPoint.pooledFeatures(units: plan.units.count)
        let featureMeans = statistics.means(featuresPoint.index)
        let classifier = layer(classifierWeights, classifierBias ?? [Float](repeating: 0, count: c.numClasses),
                               factors: gptq.map { factors($0.classifierIndex) } ?? [nil]) { _, k in featureMeans[k] }
        return try QuantizedWeights(configuration: c, metadata: metadata, stemWeights: stem.weights, stemBias: stem.bias,
                                    stemOutput: maps(.stemOutput)[0], units: quantizedUnits, featuresOutput: maps(featuresPoint)[0],
                                    classifier: classifier, recheck: recheckWeights ? RecheckWeights(folded: self) : nil,
                                    source: "quantized")
    }
}

extension QuantizedWeights {
    /// Empirical bias correction: each layer's bias minus the mean difference, per channel, between the int8
    /// network's values before the activation and the fp32 network's (`int8Means`, `fp32Means`, on the same
    /// calibration photos). Removes the systematic shift that rounding (of weights and of every upstream
    /// activation) leaves, which the analytic correction from the weights alone cannot see.
    package func correctingBiases(int8Means: PreActivationMeans, fp32Means: PreActivationMeans) throws(WeightsError) -> QuantizedWeights {
        func corrected(_ layer: QuantizedConvolution, _ index: Int) -> QuantizedConvolution {
            let bias = layer.bias.indices.map { o in Float(Double(layer.bias[o]) - (int8Means.mean(index, o) - fp32Means.mean(index, o))) }
            return QuantizedConvolution(weights: layer.weights, weightScales: layer.weightScales, bias: bias)
        }
        let newUnits = units.enumerated().map { u, unit in
            QuantizedUnit(compress: corrected(unit.compress, 3 * u), depthwise: corrected(unit.depthwise, 3 * u + 1),
                          expand: corrected(unit.expand, 3 * u + 2), compressOutput: unit.compressOutput,
                          depthwiseOutput: unit.depthwiseOutput, output: unit.output)
        }
        return try QuantizedWeights(configuration: configuration, metadata: metadata, stemWeights: stemWeights, stemBias: stemBias,
                                    stemOutput: stemOutput, units: newUnits, featuresOutput: featuresOutput,
                                    classifier: classifier, recheck: recheck, source: "bias-corrected")
    }
}
