/// Where the int8 network stores a `u8` activation: conv1's pooled output, then per unit the output of compress
/// (after its ReLU), of the depthwise convolution, and of the unit. `index` orders them as the network runs.
package enum QuantizationPoint: Hashable, Sendable {
    case stemOutput
    case compressOutput(unit: Int)
    case depthwiseOutput(unit: Int)
    case unitOutput(unit: Int)

    package var index: Int {
        switch self {
        case .stemOutput: 0
        case .compressOutput(let u): 1 + 3 * u
        case .depthwiseOutput(let u): 2 + 3 * u
        case .unitOutput(let u): 3 + 3 * u
        }
    }

    /// The point's values can be negative (the depthwise output has no ReLU); all others follow a ReLU.
    package var isSigned: Bool { if case .depthwiseOutput = self { true } else { false } }

    package static func count(units: Int) -> Int { 1 + 3 * units }
}

/// How `shufflenet quantize --method` turns the calibration photos' activations into each tensor's range.
public enum CalibrationMethod: Sendable, Equatable, CustomStringConvertible {
    /// The smallest and largest value seen: nothing is clipped, rare outliers widen every step.
    case minMax
    /// The given percentile of the values seen (and the mirror one below, for signed tensors): clips the rare
    /// largest values to give the rest finer steps.
    case percentile(Double)
    /// The clipping range whose 8-bit rounding and clipping error (mean squared, over a sample of the values) is
    /// smallest.
    case meanSquaredError

    /// `minmax`, `percentile` (99.99), `percentile:P` or `mse`.
    public init?(name: String) {
        switch name {
        case "minmax": self = .minMax
        case "mse": self = .meanSquaredError
        case "percentile": self = .percentile(99.99)
        default:
            guard name.hasPrefix("percentile:"), let p = Double(name.dropFirst("percentile:".count)), p > 50, p <= 100 else { return nil }
            self = .percentile(p)
        }
    }

    /// The name `init(name:)` reads.
    public var description: String {
        switch self {
        case .minMax: "minmax"
        case .meanSquaredError: "mse"
        case .percentile(let p): p == 99.99 ? "percentile" : "percentile:\(p)"
        }
    }
}

/// The activations of calibration photos at every `QuantizationPoint`: the smallest and largest value, and a
/// uniform sample (reservoir sampling, seeded) of at most `sampleCapacity` values per point, enough for
/// percentiles and the MSE search without keeping every activation of every photo.
package struct ActivationStatistics: Sendable {
    package private(set) var lower: [Float]
    package private(set) var upper: [Float]
    package private(set) var samples: [[Float]]
    package private(set) var seen: [Int]
    package private(set) var images = 0
    let sampleCapacity: Int
    private var rng = SplitMix64(seed: 0x5EED)

    package init(points: Int, sampleCapacity: Int = 1 << 17) {
        lower = [Float](repeating: .infinity, count: points)
        upper = [Float](repeating: -.infinity, count: points)
        samples = [[Float]](repeating: [], count: points)
        seen = [Int](repeating: 0, count: points)
        self.sampleCapacity = sampleCapacity
    }

    package mutating func add(_ point: Int, _ values: [Float]) {
        for v in values {
            lower[point] = min(lower[point], v)
            upper[point] = max(upper[point], v)
            seen[point] += 1
            if samples[point].count < sampleCapacity {
                samples[point].append(v)
            } else {
                let j = Int(rng.next() % UInt64(seen[point]))
                if j < sampleCapacity { samples[point][j] = v }
            }
        }
    }

    package mutating func finishImage() { images += 1 }

    /// The range of `point` under `method`, widened to include 0.
    package func range(_ point: Int, signed: Bool, method: CalibrationMethod) -> (lower: Float, upper: Float) {
        let lo = min(lower[point], 0), hi = max(upper[point], 0)
        guard lo.isFinite, hi.isFinite else { return (0, 1) }
        switch method {
        case .minMax:
            return (lo, hi)
        case .percentile(let p):
            let sorted = samples[point].sorted()
            guard !sorted.isEmpty else { return (lo, hi) }
            func quantile(_ q: Double) -> Float { sorted[min(sorted.count - 1, max(0, Int((q / 100 * Double(sorted.count - 1)).rounded())))] }
            return (signed ? min(quantile(100 - p), 0) : 0, max(quantile(p), 0))
        case .meanSquaredError:
            let sample = samples[point]
            guard !sample.isEmpty, hi > lo else { return (lo, hi) }
            var best = (error: Double.infinity, lo: lo, hi: hi)
            // Shrink the whole range by a common factor (keeps the zero point where min/max puts it).
            for step in 0..<100 {
                let factor = 1 - Float(step) / 125  // 1.0 down to 0.21
                let map = ActivationQuantization(lower: lo * factor, upper: hi * factor)
                var error = 0.0
                for v in sample {
                    let d = Double(map.dequantize(map.quantize(v)) - v)
                    error += d * d
                }
                if error < best.error { best = (error, lo * factor, hi * factor) }
            }
            return (best.lo, best.hi)
        }
    }
}

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
    package let units: [Unit]
    package let classifierWeights: [Float]
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

    /// Logits of one `[3][224][224]` input; `observe(point, values)` sees every `QuantizationPoint`'s tensor.
    package func logits(for input: [Float], observe: (QuantizationPoint, [Float]) -> Void = { _, _ in }) -> [Float] {
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
        for (u, layer) in zip(plan.units, units) {
            let a = ReferenceKernels.convolution(x, channels: u.inputChannels, height: size, width: size, weights: layer.compress.weights,
                                                 outputChannels: u.bottleneckChannels, kernel: 1, stride: 1, padding: 0,
                                                 groups: u.firstConvGroups, bias: layer.compress.bias)
            let compressed = ReferenceKernels.relu(a.values)
            observe(.compressOutput(unit: u.index), compressed)
            let d = ReferenceKernels.convolution(compressed, channels: u.bottleneckChannels, height: size, width: size,
                                                 weights: layer.depthwise.weights, outputChannels: u.bottleneckChannels, kernel: 3,
                                                 stride: u.stride, padding: 1, groups: u.bottleneckChannels, bias: layer.depthwise.bias)
            observe(.depthwiseOutput(unit: u.index), d.values)
            let shuffled = c.groups > 1
                ? ReferenceKernels.channelShuffle(d.values, channels: u.bottleneckChannels, groups: c.groups, convention: c.shuffle)
                : d.values
            let e = ReferenceKernels.convolution(shuffled, channels: u.bottleneckChannels, height: d.height, width: d.width,
                                                 weights: layer.expand.weights, outputChannels: u.branchChannels, kernel: 1, stride: 1,
                                                 padding: 0, groups: c.groups, bias: layer.expand.bias)
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
        return ReferenceKernels.linear(features, weights: classifierWeights, outputs: c.numClasses, bias: classifierBias)
    }

    /// Quantizes the folded weights with the activation maps `statistics` and `method` give.
    package func quantized(statistics: ActivationStatistics, method: CalibrationMethod, metadata: [String: String]) throws(WeightsError) -> QuantizedWeights {
        func map(_ point: QuantizationPoint) -> ActivationQuantization {
            let r = statistics.range(point.index, signed: point.isSigned, method: method)
            return ActivationQuantization(lower: r.lower, upper: r.upper)
        }
        let quantizedUnits = zip(plan.units, units).map { u, layer in
            QuantizedUnit(compress: QuantizedConvolution(folded: layer.compress.weights, bias: layer.compress.bias),
                          depthwise: QuantizedConvolution(folded: layer.depthwise.weights, bias: layer.depthwise.bias),
                          expand: QuantizedConvolution(folded: layer.expand.weights, bias: layer.expand.bias),
                          compressOutput: map(.compressOutput(unit: u.index)), depthwiseOutput: map(.depthwiseOutput(unit: u.index)),
                          output: map(.unitOutput(unit: u.index)))
        }
        var metadata = metadata
        metadata[QuantizedWeights.methodKey] = method.description
        metadata[QuantizedWeights.calibrationImagesKey] = "\(statistics.images)"
        return try QuantizedWeights(configuration: plan.configuration, metadata: metadata, stemWeights: stem.weights, stemBias: stem.bias,
                                    stemOutput: map(.stemOutput), units: quantizedUnits, classifierWeights: classifierWeights,
                                    classifierBias: classifierBias, source: "quantized")
    }
}
