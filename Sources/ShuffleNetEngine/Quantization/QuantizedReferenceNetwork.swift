/// The int8 network computed literally, `u8` activations, `s8` weights and exact `Int32` sums, with the
/// requantization of `ActivationQuantization`: the executable specification of the int8 scheme that fast
/// kernels are tested against. Layout `[C][H][W]`, one image. Slow on purpose.
package struct QuantizedReferenceNetwork: Sendable {
    package let weights: QuantizedWeights
    package let plan: NetworkPlan

    /// The network for square inputs of `inputSize` pixels (the maps do not depend on it).
    package init(weights: QuantizedWeights, inputSize: Int = 224) {
        self.weights = weights
        plan = NetworkPlan(configuration: weights.configuration, inputSize: inputSize)
    }

    /// Logits and pooled features of one `[3][inputSize][inputSize]` fp32 input. With `means`, each layer's values before
    /// its activation (`v`) are added to it per channel (layer `3u`, `3u + 1`, `3u + 2`: compress, depthwise,
    /// expand of unit `u`).
    package func run(_ input: [Float], means: PreActivationMeans? = nil) -> (logits: [Float], features: [Float]) {
        let c = plan.configuration
        let w = weights
        let conv1 = ReferenceKernels.convolution(input, channels: 3, height: plan.inputSize, width: plan.inputSize,
                                                 weights: w.stemWeights, outputChannels: c.stemChannels, kernel: 3, stride: 2,
                                                 padding: 1, groups: 1, bias: w.stemBias)
        let pooled = ReferenceKernels.pool3x3Stride2(ReferenceKernels.relu(conv1.values), channels: c.stemChannels,
                                                     height: conv1.height, width: conv1.width, maximum: true)
        var x = pooled.values.map(w.stemOutput.quantize)
        var xMap = w.stemOutput
        var size = pooled.height
        for (u, unit) in zip(plan.units, w.units) {
            let plane = size * size
            let compressed = Self.pointwise(x, inputScale: xMap.scale, zeroPoints: [Int32](repeating: Int32(xMap.zeroPoint), count: u.inputChannels),
                                            pixels: plane, layer: unit.compress, groups: u.firstConvGroups) { o, p, v in
                means?.add(3 * u.index, o, v)
                return unit.compressOutput[o].quantize(max(v, 0))
            }
            let (depthwise, outSize) = Self.depthwise(compressed, inputMaps: unit.compressOutput, size: size, stride: u.stride,
                                                      layer: unit.depthwise, outputs: unit.depthwiseOutput) { ch, v in
                means?.add(3 * u.index + 1, ch, v)
            }
            let outPlane = outSize * outSize
            // The shuffle: depthwise channel j goes to plane destinations[j] (a permutation of codes, free; the
            // per-channel maps travel with them, already folded into expand's weights and zero points).
            var shuffled = depthwise
            var zeroPoints = unit.depthwiseOutput.map { Int32($0.zeroPoint) }
            if c.groups > 1 {
                let destinations = c.shuffle.destinations(channels: u.bottleneckChannels, groups: c.groups)
                for (j, d) in destinations.enumerated() {
                    for p in 0..<outPlane { shuffled[d * outPlane + p] = depthwise[j * outPlane + p] }
                    zeroPoints[d] = Int32(unit.depthwiseOutput[j].zeroPoint)
                }
            }
            let output = unit.output
            if u.stride == 1 {
                let residual = x, residualMap = xMap
                x = Self.pointwise(shuffled, inputScale: 1, zeroPoints: zeroPoints, pixels: outPlane, layer: unit.expand, groups: c.groups) { o, p, v in
                    means?.add(3 * u.index + 2, o, v)
                    let r = Float(Int32(residual[o * outPlane + p]) - Int32(residualMap.zeroPoint))
                    return output.quantize(max(v.addingProduct(r, residualMap.scale), 0))  // add, then ReLU (Fig. 2b)
                }
            } else {
                let branch = Self.pointwise(shuffled, inputScale: 1, zeroPoints: zeroPoints, pixels: outPlane, layer: unit.expand, groups: c.groups) { o, p, v in
                    means?.add(3 * u.index + 2, o, v)
                    return output.quantize(max(v, 0))
                }
                var shortcut = [UInt8](repeating: 0, count: u.inputChannels * outPlane)
                let step = xMap.scale / 9  // PyTorch's AvgPool2d(3, 2, 1) divides by 9, padding included
                for ch in 0..<u.inputChannels {
                    for oy in 0..<outSize {
                        for ox in 0..<outSize {
                            var sum: Int32 = 0
                            for ky in 0..<3 {
                                let iy = 2 * oy + ky - 1
                                if iy < 0 || iy >= size { continue }
                                for kx in 0..<3 {
                                    let ix = 2 * ox + kx - 1
                                    if ix < 0 || ix >= size { continue }
                                    sum += Int32(x[(ch * size + iy) * size + ix]) - Int32(xMap.zeroPoint)
                                }
                            }
                            shortcut[(ch * outSize + oy) * outSize + ox] = output.quantize(Float(sum) * step)
                        }
                    }
                }
                x = shortcut + branch
            }
            xMap = output
            size = outSize
        }
        let plane = size * size
        let features = (0..<plan.finalChannels).map { ch -> Float in
            var sum: Int32 = 0
            for p in 0..<plane { sum += Int32(x[ch * plane + p]) - Int32(xMap.zeroPoint) }
            return Float(sum) * xMap.scale / Float(plane)
        }
        // With recheck weights, the fp32 classifier at 16 bits on the fp32 features (sums in Double, rounded once).
        if let recheck = w.recheck {
            let weights = recheck.classifier.floatWeights
            let logits = (0..<c.numClasses).map { k in
                Float((0..<plan.finalChannels).reduce(Double(recheck.classifier.bias[k])) {
                    $0 + Double(weights[k * plan.finalChannels + $1]) * Double(features[$1])
                })
            }
            return (logits, features)
        }
        // The classifier: the features as u8 codes, s8 weights, exact sums, one fp32 step per class.
        let codes = features.map(w.featuresOutput.quantize)
        let logits: [Float] = Self.pointwise(codes, inputScale: w.featuresOutput.scale,
                                             zeroPoints: [Int32](repeating: Int32(w.featuresOutput.zeroPoint), count: plan.finalChannels),
                                             pixels: 1, layer: w.classifier, groups: 1) { _, _, v in v }
        return (logits, features)
    }

    /// A grouped 1x1 convolution on `u8` planes: `acc = sum W[o][i] * (x_i - z_i)` in `Int32`, then
    /// `epilogue(o, p, fma(Float(acc), inputScale * weightScale[o], bias[o]))`.
    package static func pointwise<Output>(_ x: [UInt8], inputScale: Float, zeroPoints: [Int32], pixels: Int, layer: QuantizedConvolution,
                                          groups: Int, epilogue: (Int, Int, Float) -> Output) -> [Output] {
        let outputs = layer.outputs
        let inputs = x.count / pixels
        let inPerGroup = inputs / groups, outPerGroup = outputs / groups
        var out: [Output] = []
        out.reserveCapacity(outputs * pixels)
        var acc = [Int32](repeating: 0, count: pixels)
        for o in 0..<outputs {
            let g = o / outPerGroup
            for p in 0..<pixels { acc[p] = 0 }
            for i in 0..<inPerGroup {
                let weight = Int32(layer.weights[o * inPerGroup + i])
                let base = (g * inPerGroup + i) * pixels
                let zero = zeroPoints[g * inPerGroup + i]
                for p in 0..<pixels { acc[p] += weight * (Int32(x[base + p]) - zero) }
            }
            let multiplier = inputScale * layer.weightScales[o]
            for p in 0..<pixels {
                out.append(epilogue(o, p, layer.bias[o].addingProduct(Float(acc[p]), multiplier)))  // index o * pixels + p
            }
        }
        return out
    }

    /// A 3x3 depthwise convolution, padding 1 (real 0, so padded taps add nothing), on `u8` planes, each channel
    /// with its own input and output map.
    package static func depthwise(_ x: [UInt8], inputMaps: [ActivationQuantization], size: Int, stride: Int,
                          layer: QuantizedConvolution, outputs: [ActivationQuantization],
                          record: (Int, Float) -> Void = { _, _ in }) -> ([UInt8], Int) {
        let outSize = (size - 1) / stride + 1
        let channels = inputMaps.count
        var out = [UInt8](repeating: 0, count: channels * outSize * outSize)
        for ch in 0..<channels {
            let zero = Int32(inputMaps[ch].zeroPoint)
            let output = outputs[ch]
            let multiplier = inputMaps[ch].scale * layer.weightScales[ch]
            for oy in 0..<outSize {
                for ox in 0..<outSize {
                    var acc: Int32 = 0
                    for ky in 0..<3 {
                        let iy = oy * stride + ky - 1
                        if iy < 0 || iy >= size { continue }
                        for kx in 0..<3 {
                            let ix = ox * stride + kx - 1
                            if ix < 0 || ix >= size { continue }
                            acc += Int32(layer.weights[ch * 9 + ky * 3 + kx]) * (Int32(x[(ch * size + iy) * size + ix]) - zero)
                        }
                    }
                    let v = layer.bias[ch].addingProduct(Float(acc), multiplier)
                    record(ch, v)
                    out[(ch * outSize + oy) * outSize + ox] = output.quantize(v)
                }
            }
        }
        return (out, outSize)
    }
}

extension QuantizedReferenceNetwork {
    /// One layer alone (`3u` compress, `3u + 1` depthwise, `3u + 2` expand) on an fp32 input, quantized with the
    /// maps that layer's input has in the int8 network: its values before the activation, `[channels][plane]`.
    /// The empirical bias correction compares these with the fp32 layer's on the same input, which isolates the
    /// layer's own rounding and clipping from what upstream layers add.
    package func layerAlone(_ index: Int, input: [Float], size: Int) -> [Float] {
        let c = plan.configuration
        let u = plan.units[index / 3], unit = weights.units[index / 3]
        let plane = size * size
        var values: [Float] = []
        switch index % 3 {
        case 0:
            let map = u.index == 0 ? weights.stemOutput : weights.units[u.index - 1].output
            values.reserveCapacity(u.bottleneckChannels * plane)
            _ = Self.pointwise(input.map(map.quantize), inputScale: map.scale,
                               zeroPoints: [Int32](repeating: Int32(map.zeroPoint), count: u.inputChannels), pixels: plane,
                               layer: unit.compress, groups: u.firstConvGroups) { _, _, v in values.append(v); return 0 }
        case 1:
            var codes = [UInt8](repeating: 0, count: input.count)
            for ch in 0..<u.bottleneckChannels {
                for p in 0..<plane { codes[ch * plane + p] = unit.compressOutput[ch].quantize(input[ch * plane + p]) }
            }
            let outSize = (size - 1) / u.stride + 1
            values = [Float](repeating: 0, count: u.bottleneckChannels * outSize * outSize)
            var position = [Int](repeating: 0, count: u.bottleneckChannels)
            _ = Self.depthwise(codes, inputMaps: unit.compressOutput, size: size, stride: u.stride, layer: unit.depthwise,
                               outputs: unit.depthwiseOutput) { ch, v in
                values[ch * outSize * outSize + position[ch]] = v
                position[ch] += 1
            }
        default:
            // The input is the shuffled depthwise output: position j holds depthwise channel source[j].
            var source = Array(0..<u.bottleneckChannels)
            if c.groups > 1 {
                for (channel, d) in c.shuffle.destinations(channels: u.bottleneckChannels, groups: c.groups).enumerated() { source[d] = channel }
            }
            var codes = [UInt8](repeating: 0, count: input.count)
            for j in 0..<u.bottleneckChannels {
                let map = unit.depthwiseOutput[source[j]]
                for p in 0..<plane { codes[j * plane + p] = map.quantize(input[j * plane + p]) }
            }
            values.reserveCapacity(u.branchChannels * plane)
            _ = Self.pointwise(codes, inputScale: 1, zeroPoints: source.map { Int32(unit.depthwiseOutput[$0].zeroPoint) }, pixels: plane,
                               layer: unit.expand, groups: c.groups) { _, _, v in values.append(v); return 0 }
        }
        return values
    }
}

/// Per-channel means of each layer's values before its activation, over everything added (the empirical bias
/// correction compares the int8 network's with the fp32 network's).
package final class PreActivationMeans: @unchecked Sendable {
    package private(set) var sums: [[Double]]
    package private(set) var counts: [[Int]]

    /// One entry per layer: `3u` compress, `3u + 1` depthwise, `3u + 2` expand.
    package init(plan: NetworkPlan) {
        let channels = plan.units.flatMap { [$0.bottleneckChannels, $0.bottleneckChannels, $0.branchChannels] }
        sums = channels.map { [Double](repeating: 0, count: $0) }
        counts = channels.map { [Int](repeating: 0, count: $0) }
    }

    @inline(__always)
    package func add(_ layer: Int, _ channel: Int, _ v: Float) {
        sums[layer][channel] += Double(v)
        counts[layer][channel] += 1
    }

    /// A `[channels][plane]` tensor of layer `layer`.
    package func add(_ layer: Int, _ values: [Float]) {
        let channels = sums[layer].count, plane = values.count / channels
        for c in 0..<channels {
            var sum = 0.0
            for p in 0..<plane { sum += Double(values[c * plane + p]) }
            sums[layer][c] += sum
            counts[layer][c] += plane
        }
    }

    package func mean(_ layer: Int, _ channel: Int) -> Double { sums[layer][channel] / Double(max(1, counts[layer][channel])) }
}
