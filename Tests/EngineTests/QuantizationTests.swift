import Foundation
import ShuffleNetEngine
import Testing

/// The int8 scheme: the file format round trip and its checks, the accumulator bound for every configuration
/// (and worst-case weights and inputs run through the reference), requantization against hand-computed values,
/// and the int8 reference network against the fp32 one it was made from.
@Suite struct QuantizationTests {
    static func smallNetwork() throws -> (ShuffleNetWeights, QuantizedWeights, [Float]) {
        let configuration = try ShuffleNetConfiguration(scale: 0.25, groups: 2, numClasses: 7)
        let fp32 = ShuffleNetWeights.random(configuration: configuration, seed: 5)
        let folded = FoldedNetwork(weights: fp32)
        let (statistics, lastInput) = try statisticsAndInput(folded)
        let int8 = try folded.quantized(statistics: statistics, method: .minMax, metadata: ["preprocessing": "megvii"])
        return (fp32, int8, lastInput)
    }

    /// Activation statistics of three random 0...255 inputs, and the last input.
    static func statisticsAndInput(_ folded: FoldedNetwork) throws -> (ActivationStatistics, [Float]) {
        var statistics = ActivationStatistics(plan: folded.plan)
        var rng = SplitMix64(seed: 3)
        var lastInput: [Float] = []
        for _ in 0..<3 {
            lastInput = (0..<(3 * 224 * 224)).map { _ in 255 * Float(rng.next() >> 40) / Float(1 << 24) }
            _ = folded.logits(for: lastInput, observe: { point, values in statistics.add(point.index, values) })
            statistics.finishImage()
        }
        return (statistics, lastInput)
    }

    static func statistics(_ folded: FoldedNetwork) throws -> ActivationStatistics { try statisticsAndInput(folded).0 }

    @Test func requantizationRoundsHalfToEvenAndClamps() {
        let map = ActivationQuantization(scale: 0.5, zeroPoint: 10)
        #expect(map.quantize(0) == 10)
        #expect(map.quantize(0.25) == 10)    // 0.5 steps: half to even
        #expect(map.quantize(0.75) == 12)    // 1.5 -> 2
        #expect(map.quantize(-5) == 0)       // -10 + 10
        #expect(map.quantize(-6) == 0)       // clamped
        #expect(map.quantize(1000) == 255)
        #expect(map.dequantize(14) == 2)
        // A range gets 255 steps and a zero point that makes 0 exact.
        let signed = ActivationQuantization(lower: -1, upper: 3)
        #expect(abs(signed.scale - 4 / 255) < 1e-9)
        #expect(signed.zeroPoint == 64)      // round(1 / (4/255)) = round(63.75)
        #expect(signed.dequantize(signed.quantize(0)) == 0)
        #expect(ActivationQuantization(lower: 0.5, upper: 2).zeroPoint == 0)  // widened to include 0
    }

    @Test func weightsArePerChannelSymmetricWithinPlusMinus127() {
        let layer = QuantizedConvolution(folded: [0.5, -1, 0.25, 0, 0, 0, 100, -3, 2], bias: [1, 2, 3])
        #expect(layer.weightScales == [1 / 127, 1, 100 / 127])
        #expect(layer.weights == [64, -127, 32, 0, 0, 0, 127, -4, 3])   // 63.5 -> 64 (half to even), -3.81 -> -4
    }

    @Test func theAccumulatorCannotOverflowInAnyConfiguration() throws {
        var widest = 0
        for scale in [0.25, 0.5, 1, 1.5, 2] {
            for groups in [1, 2, 3, 4, 8] {
                let plan = NetworkPlan(configuration: try ShuffleNetConfiguration(scale: scale, groups: groups))
                for u in plan.units {
                    widest = max(widest, u.inputChannels / u.firstConvGroups, u.bottleneckChannels / groups, 9)
                }
            }
        }
        #expect(widest == 1152)
        #expect(QuantizedConvolution.accumulatorBound(reduction: widest) < Int(Int32.max))
        // Worst case through the reference (whose Int32 arithmetic traps on overflow): every weight -127, every
        // input 255 with zero point 0, then every input 0 with zero point 255.
        let pixels = 3
        let layer = QuantizedConvolution(weights: [Int8](repeating: -127, count: 2 * widest), weightScales: [1, 1], bias: [0, 0])
        for (value, zero) in [(UInt8(255), UInt8(0)), (0, 255)] {
            var sums: [Float] = []
            _ = QuantizedReferenceNetwork.pointwise([UInt8](repeating: value, count: widest * pixels),
                                                    inputScale: 1, zeroPoints: [Int32](repeating: Int32(zero), count: widest), pixels: pixels,
                                                    layer: layer, groups: 1) { _, _, v in sums.append(v); return 0 }
            let exact = Float(-127 * (Int(value) - Int(zero)) * widest)
            #expect(sums == [Float](repeating: exact, count: 2 * pixels))
        }
    }

    @Test func int8FilesRoundTripAndTheirDamageIsRefused() throws {
        let (_, int8, _) = try Self.smallNetwork()
        let bytes = int8.safeTensors().serialized()
        let loaded = try QuantizedWeights(file: SafeTensorsFile(bytes: bytes, path: "q.safetensors"))
        #expect(loaded.units == int8.units)
        #expect(loaded.stemWeights == int8.stemWeights && loaded.stemOutput == int8.stemOutput)
        #expect(loaded.classifier == int8.classifier && loaded.featuresOutput == int8.featuresOutput)
        #expect(loaded.metadata["precision"] == "int8" && loaded.metadata["quantization_method"] == "minmax")
        #expect(int8.recheck != nil && loaded.recheck == int8.recheck)
        // The fp32 loader names the problem instead of listing missing tensors.
        let asFloat = #expect(throws: WeightsError.self) { try ShuffleNetWeights(file: SafeTensorsFile(bytes: bytes, path: "q.safetensors")) }
        #expect(asFloat?.problem.contains("precision is \"int8\"") == true)

        typealias Tensor = (name: String, dtype: String, shape: [Int], data: [UInt8])
        let original = try SafeTensorsFile(bytes: bytes, path: "q.safetensors")
        let tensors: [Tensor] = original.entries.map { ($0.name, $0.dtype.rawValue, $0.shape, original.bytes(of: $0)) }
        func serialized(_ metadata: [String: String], _ list: [Tensor]) throws -> [UInt8] {
            var header: [String: Any] = ["__metadata__": metadata]
            var data: [UInt8] = []
            for t in list {
                header[t.name] = ["dtype": t.dtype, "shape": t.shape, "data_offsets": [data.count, data.count + t.data.count]]
                data += t.data
            }
            let json = try JSONSerialization.data(withJSONObject: header)
            return withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + [UInt8](json) + data
        }
        func refused(_ edit: (inout [String: String], inout [Tensor]) -> Void, _ expected: String) throws {
            var metadata = original.metadata, list = tensors
            edit(&metadata, &list)
            let tampered = try serialized(metadata, list)
            let file = try SafeTensorsFile(bytes: tampered, path: "bad.safetensors")
            let error = #expect(throws: WeightsError.self) { try QuantizedWeights(file: file) }
            #expect(error?.description.contains(expected) == true, "\(String(describing: error)) lacks \(expected)")
        }
        try refused({ _, t in t.removeAll { $0.name == "features.0.compress.weight" } }, "missing tensor \"features.0.compress.weight\"")
        try refused({ _, t in
            let i = t.firstIndex { $0.name == "features.0.expand.weight" }!
            t[i].dtype = "U8"
        }, "expected I8")
        try refused({ m, _ in m["precision"] = "int4" }, "not \"int8\"")
        try refused({ _, t in t.append((name: "extra", dtype: "F32", shape: [1], data: [0, 0, 0, 0])) }, "unexpected tensor \"extra\"")
        try refused({ _, t in
            let i = t.firstIndex { $0.name == "features.1.depthwise.output_scale" }!
            t[i].data.replaceSubrange(0..<4, with: withUnsafeBytes(of: Float(-1).bitPattern.littleEndian, Array.init))
        }, "output_scale must be positive")
        try refused({ _, t in
            let i = t.firstIndex { $0.name == "features.2.compress.output_zero_point" }!
            t[i].shape = [1]
            t[i].data = [0]
        }, "expected U8 [")
        // The recheck weights: all of them or none, F16, finite.
        try refused({ _, t in t.removeAll { $0.name == "features.1.expand.recheck_weight" } },
                    "missing tensor \"features.1.expand.recheck_weight\"")
        try refused({ _, t in t.removeAll { $0.name.hasSuffix("recheck_bias") && $0.name != "classifier.recheck_bias" } },
                    "missing tensor \"features.0.compress.recheck_bias\"")
        try refused({ _, t in
            let i = t.firstIndex { $0.name == "classifier.recheck_weight" }!
            t[i].data.replaceSubrange(2..<4, with: [0x00, 0x7C])  // element 1: +infinity
        }, "tensor \"classifier.recheck_weight\" holds a non-finite value at element 1")
        try refused({ _, t in
            let i = t.firstIndex { $0.name == "features.0.depthwise.recheck_weight" }!
            t[i].dtype = "BF16"
        }, "expected F16")
        // Without any of them the file is a plain int8 file.
        let plain = try serialized(original.metadata, tensors.filter { !$0.name.contains(".recheck_") })
        let withoutRecheck = try QuantizedWeights(file: SafeTensorsFile(bytes: plain, path: "plain.safetensors"))
        #expect(withoutRecheck.recheck == nil && withoutRecheck.units == int8.units)
    }

    /// The network a recheck runs (`ShuffleNetModel(rechecking:)`, fast fp32 kernels, binary16 classifier) computes
    /// the fp32 network with its weights rounded to binary16, by the naive reference kernels; and that stays within
    /// binary16's rounding of the fp32 network itself, with the same top-1.
    @Test func theRecheckModelIsTheFp32NetworkWithBinary16Weights() throws {
        let (fp32, int8, input) = try Self.smallNetwork()
        let folded = FoldedNetwork(weights: fp32)
        let model = try #require(try ShuffleNetModel(rechecking: int8))
        #expect(model.precision == .fp32)
        let fast = try model.logits(for: input)
        let rounded = folded.transformingWeights { Float(Float16($0)) }.logits(for: input)
        let exact = folded.logits(for: input)
        let spread = exact.max()! - exact.min()!
        #expect(zip(fast, rounded).allSatisfy { abs($0 - $1) <= 1e-4 * spread }, "\(fast.prefix(4)) vs \(rounded.prefix(4))")
        #expect(zip(fast, exact).allSatisfy { abs($0 - $1) <= 5e-3 * spread })
        #expect(fast.indices.max { fast[$0] < fast[$1] } == exact.indices.max { exact[$0] < exact[$1] })
        // Without recheck weights there is no recheck network.
        let statistics = try Self.statistics(folded)
        let plain = try folded.quantized(statistics: statistics, method: .minMax, metadata: ["preprocessing": "megvii"], recheckWeights: false)
        #expect(plain.recheck == nil)
        #expect(try ShuffleNetModel(rechecking: plain) == nil)
    }

    @Test func weightsOfMinus128AndNonPositiveScalesAreRefused() throws {
        let (_, int8, _) = try Self.smallNetwork()
        var units = int8.units
        var weights = units[0].compress.weights
        weights[3] = -128
        let bad = QuantizedConvolution(weights: weights, weightScales: units[0].compress.weightScales, bias: units[0].compress.bias)
        units[0] = QuantizedUnit(compress: bad, depthwise: units[0].depthwise, expand: units[0].expand, compressOutput: units[0].compressOutput,
                                 depthwiseOutput: units[0].depthwiseOutput, output: units[0].output)
        let e1 = #expect(throws: WeightsError.self) {
            try QuantizedWeights(configuration: int8.configuration, metadata: int8.metadata, stemWeights: int8.stemWeights, stemBias: int8.stemBias,
                                 stemOutput: int8.stemOutput, units: units, featuresOutput: int8.featuresOutput,
                                 classifier: int8.classifier, source: "t")
        }
        #expect(e1?.description.contains("holds -128 at element 3") == true)
        let e2 = #expect(throws: WeightsError.self) {
            try QuantizedWeights(configuration: int8.configuration, metadata: int8.metadata, stemWeights: int8.stemWeights, stemBias: int8.stemBias,
                                 stemOutput: ActivationQuantization(scale: 0, zeroPoint: 0), units: int8.units,
                                 featuresOutput: int8.featuresOutput, classifier: int8.classifier, source: "t")
        }
        #expect(e2?.description.contains("output_scale must be positive") == true)
    }

    /// The folded fp32 network equals the unfolded reference, and the int8 network made from it stays close:
    /// the same top-1 and logits within a few percent of their spread (random weights, min/max calibration on
    /// the same inputs).
    @Test func theInt8ReferenceFollowsTheFp32Network() throws {
        let (fp32, int8, input) = try Self.smallNetwork()
        let reference = ReferenceNetwork(weights: fp32).logits(for: input)
        let folded = FoldedNetwork(weights: fp32).logits(for: input)
        let spread = reference.max()! - reference.min()!
        #expect(zip(reference, folded).allSatisfy { abs($0 - $1) <= 1e-4 * spread })
        let quantized = QuantizedReferenceNetwork(weights: int8).run(input).logits
        let worst = zip(reference, quantized).map { abs($0 - $1) }.max()!
        #expect(worst < 0.05 * spread, "int8 logits differ by \(worst) of a spread of \(spread)")
        #expect(reference.indices.max { reference[$0] < reference[$1] } == quantized.indices.max { quantized[$0] < quantized[$1] })
    }
}

@Suite struct CalibrationStatisticsTests {
    /// Percentiles from the kept tails against values worked out by hand, per channel and per tensor.
    @Test func percentilesMeansAndMapsFromTheTails() {
        var statistics = ActivationStatistics(channels: [2, 2], perChannel: [true, false], capacity: 8, tensorCapacity: 8)
        // Channel 0: 0...999 (mean 499.5); channel 1: -500...499 (mean -0.5). Plane of 1000 values each.
        let values = (0..<1000).map(Float.init) + (0..<1000).map { Float($0 - 500) }
        statistics.add(0, values)
        statistics.add(1, values)
        statistics.finishImage()
        #expect(statistics.means(0) == [499.5, -0.5])
        // minmax: [0, 999] for channel 0 (post-ReLU style: lower 0), [-500, 499] signed for channel 1.
        let minMax = statistics.maps(0, signed: true, method: .minMax)
        #expect(minMax[0] == ActivationQuantization(lower: 0, upper: 999))
        #expect(minMax[1] == ActivationQuantization(lower: -500, upper: 499))
        // Percentile 99.5 of 1000 values: the ceil(0.005 * 1000) = 5th largest (995) and 5th smallest (-496).
        let p = statistics.maps(0, signed: true, method: .percentile(99.5))
        #expect(p[0] == ActivationQuantization(lower: 0, upper: 995))
        #expect(p[1] == ActivationQuantization(lower: -496, upper: 495))
        // Per tensor: 2000 values, the 10th largest is 990; deeper than the 8 kept: the 8th largest (992).
        #expect(statistics.maps(1, signed: false, method: .percentile(99.5)) == [ActivationQuantization(lower: 0, upper: 990 + 2)])
        #expect(statistics.maps(1, signed: false, method: .percentile(99.9)) == [ActivationQuantization(lower: 0, upper: 998)])
    }
}

/// Hostile int8 files, as WeightsHostileTests does for fp32: every truncation refused with the file named, header
/// damage and data damage never crash, and whatever still loads is complete and within the scheme's ranges.
@Suite struct QuantizedWeightsHostileTests {
    static func load(_ bytes: [UInt8]) throws(WeightsError) -> QuantizedWeights {
        try QuantizedWeights(file: SafeTensorsFile(bytes: bytes, path: "tampered-int8.safetensors"))
    }

    static func valid(_ w: QuantizedWeights) -> Bool {
        let maps = [w.stemOutput] + w.units.flatMap { $0.compressOutput + $0.depthwiseOutput + [$0.output] }
        let layers = w.units.flatMap { [$0.compress, $0.depthwise, $0.expand] } + [w.classifier]
        return maps.allSatisfy { $0.scale.isFinite && $0.scale > 0 }
            && layers.allSatisfy { l in !l.weights.contains(-128) && l.weightScales.allSatisfy { $0.isFinite && $0 > 0 } && l.bias.allSatisfy(\.isFinite) }
            && (w.stemWeights + w.stemBias).allSatisfy(\.isFinite) && w.featuresOutput.scale > 0
    }

    @Test func truncationsAndDamageAreRefusedOrHarmless() throws {
        let good = try QuantizationTests.smallNetwork().1.safeTensors().serialized()
        #expect(Self.valid(try Self.load(good)))
        let headerEnd = 8 + good[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        for length in Array(0..<64) + Array(stride(from: 64, to: good.count, by: 997)) + [good.count - 1] {
            do {
                _ = try Self.load(Array(good.prefix(length)))
                Issue.record("accepted when cut to \(length) of \(good.count) bytes")
            } catch {
                #expect(error.path == "tampered-int8.safetensors")
            }
        }
        for index in stride(from: 0, to: headerEnd, by: 41) {
            for replacement in [UInt8(ascii: "9"), UInt8(ascii: "\""), 0xFF] {
                var damaged = good
                damaged[index] = replacement
                if let weights = try? Self.load(damaged) { #expect(Self.valid(weights)) }
            }
        }
        // Data bytes set to 0x80 (-128 as I8), 0xFF (NaN patterns in F32) and 0: refused or still valid.
        for index in stride(from: headerEnd, to: good.count, by: 211) {
            for replacement in [UInt8(0x80), 0xFF, 0] {
                var damaged = good
                damaged[index] = replacement
                if let weights = try? Self.load(damaged) { #expect(Self.valid(weights)) }
            }
        }
    }
}
