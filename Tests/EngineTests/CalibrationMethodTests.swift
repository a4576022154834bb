import Foundation
import ShuffleNetEngine
import Testing

/// `--method mse` and `--rounding gptq` against cases worked out by hand, and GPTQ's promise on a small network:
/// no layer's output error on the calibration inputs above nearest rounding's.
@Suite struct CalibrationMethodTests {
    /// `bulk` values of 1 and one of 2 (per tensor, unsigned). Keeping 2 costs every value `(2/255)^2 / 12`;
    /// clipping at 1 costs the outlier `(2 - 1)^2 = 1` and the rest `(1/255)^2 / 12`. The crossover is at
    /// `bulk` ~ 260,000: below it MSE keeps the max, above it clips.
    @Test func mseRangeClipsAnOutlierOnlyWhenEnoughValuesPayForIt() {
        func upper(bulk: Int) -> Float {
            var statistics = ActivationStatistics(channels: [1], perChannel: [false], capacity: 16, tensorCapacity: 16)
            statistics.add(0, [Float](repeating: 1, count: bulk) + [2])
            statistics.finishImage()
            let map = statistics.maps(0, signed: false, method: .mse)[0]
            #expect(map.zeroPoint == 0)
            return map.scale * 255
        }
        #expect(abs(upper(bulk: 100_000) - 2) < 1e-5)   // 0.513 (keep) < 1.128 (clip)
        #expect(abs(upper(bulk: 400_000) - 1) < 1e-5)   // 2.05 (keep) > 1.51 (clip)
        #expect(CalibrationMethod(name: "mse") == .mse && CalibrationMethod.mse.description == "mse")
    }

    /// Signed: -1 x bulk, +1 x bulk, and outliers -3 and +2. With a small bulk the full range [-3, 2]; with a large
    /// one both outliers are clipped to [-1, 1], the zero point in the middle.
    @Test func mseRangeOfSignedValuesSearchesBothBounds() {
        func map(bulk: Int) -> ActivationQuantization {
            var statistics = ActivationStatistics(channels: [1], perChannel: [true], capacity: 16, tensorCapacity: 16)
            statistics.add(0, [Float](repeating: -1, count: bulk) + [Float](repeating: 1, count: bulk) + [-3, 2])
            statistics.finishImage()
            return statistics.maps(0, signed: true, method: .mse)[0]
        }
        // Small: keep [-3, 2] costs 202 * (5/255)^2 / 12 = 0.0065; clipping either outlier costs >= 1.
        #expect(map(bulk: 100) == ActivationQuantization(lower: -3, upper: 2))
        // Large (10^6 values): keep costs 64; clip both: 2e6 * (2/255)^2 / 12 + 4 + 1 = 15.3.
        #expect(map(bulk: 1_000_000) == ActivationQuantization(lower: -1, upper: 1))
    }

    /// Two inputs that always move together (`x0 = x1`) and a third apart. Nearest rounding takes 0.4 and 0.4 to
    /// 0 and 0 (the output off by 0.8 x); GPTQ rounds the first to 0 and hands its error to the second (0.4 + 0.4
    /// * 1/1.01 -> code 1), off by 0.2 x. The scale is 1 (127 / 127).
    @Test func gptqHandsARoundingErrorToACorrelatedInput() throws {
        let h: [Double] = [1, 1, 0, 1, 1, 0, 0, 0, 1]
        let u = try #require(GPTQ.inverseFactor(h, 3))
        let w: [Float] = [0.4, 0.4, 127]
        #expect(QuantizedConvolution(folded: w, bias: [0]).weights == [0, 0, 127])
        let layer = GPTQ.layer(folded: w, bias: [0], factors: [u], block: { _ in 0 })
        #expect(layer.weights == [0, 1, 127])
        #expect(layer.weightScales == [1])
        // U^T U is the damped inverse: (H + 0.01 I) (U^T U) = I.
        for i in 0..<3 {
            for j in 0..<3 {
                var product = 0.0
                for k in 0..<3 {
                    var inverse = 0.0
                    for m in 0..<3 { inverse += u[m * 3 + k] * u[m * 3 + j] }
                    product += (h[i * 3 + k] + (i == k ? 0.01 : 0)) * inverse
                }
                #expect(abs(product - (i == j ? 1 : 0)) < 1e-9)
            }
        }
        // No information (H = 0): nearest rounding.
        #expect(GPTQ.inverseFactor([0, 0, 0, 0], 2) == nil)
        #expect(GPTQ.round([0.4, 0.4], scale: 1, factor: nil) == [0, 0])
    }

    /// On a small random network calibrated on three random inputs: for every layer, the output error GPTQ's codes
    /// leave on those inputs, `sum_o (deq(W_o) - W_o)^T H (deq(W_o) - W_o)`, is at most nearest rounding's (and
    /// smaller in total), and the maps, scales and file are otherwise the same.
    @Test func gptqNeverLeavesALayerWorseOnTheCalibrationInputs() throws {
        let configuration = try ShuffleNetConfiguration(scale: 0.25, groups: 2, numClasses: 7)
        let folded = FoldedNetwork(weights: ShuffleNetWeights.random(configuration: configuration, seed: 5))
        var statistics = ActivationStatistics(plan: folded.plan)
        var grams = LayerGrams(plan: folded.plan)
        var rng = SplitMix64(seed: 3)
        for _ in 0..<3 {
            let input = (0..<(3 * 224 * 224)).map { _ in 255 * Float(rng.next() >> 40) / Float(1 << 24) }
            let classifierIndex = grams.classifierIndex
            _ = folded.logits(for: input, layer: { index, x, size, _ in grams.add(layer: index, input: x, size: size) },
                              observe: { point, values in
                                  statistics.add(point.index, values)
                                  if case .pooledFeatures = point { grams.add(layer: classifierIndex, input: values, size: 1) }
                              })
            statistics.finishImage()
        }
        let nearest = try folded.quantized(statistics: statistics, method: .minMax, metadata: [:])
        let gptq = try folded.quantized(statistics: statistics, method: .minMax, metadata: [:], rounding: .gptq, grams: grams)
        #expect(gptq.metadata[QuantizedWeights.roundingKey] == "gptq" && nearest.metadata[QuantizedWeights.roundingKey] == "nearest")
        #expect(gptq.units.map(\.output) == nearest.units.map(\.output))
        #expect(gptq.units.map(\.depthwiseOutput) == nearest.units.map(\.depthwiseOutput))

        /// The output error of `layer` against `weights` (both in the units `layer` computes in, `inputScale`
        /// times its codes), block `block(o)` of Gram matrix `index`.
        func error(_ layer: QuantizedConvolution, _ weights: [Float], _ index: Int, scale: (Int, Int) -> Double = { _, _ in 1 },
                   block: (Int) -> Int) -> Double {
            let k = weights.count / layer.outputs
            var total = 0.0
            for o in 0..<layer.outputs {
                let h = grams.block(index, block(o))
                let d = (0..<k).map { i in Double(layer.weightScales[o]) * Double(layer.weights[o * k + i]) / scale(block(o), i) - Double(weights[o * k + i]) }
                for i in 0..<k { for j in 0..<k { total += d[i] * h[i * k + j] * d[j] } }
            }
            return total
        }
        var totals = (gptq: 0.0, nearest: 0.0)
        for (u, unit) in folded.plan.units.enumerated() {
            let plan = folded.plan.units[u], f = folded.units[u]
            let compressBlock = { (o: Int) in o / (plan.bottleneckChannels / plan.firstConvGroups) }
            let pairs: [(Double, Double)] = [
                (error(gptq.units[u].compress, f.compress.weights, 3 * u, block: compressBlock),
                 error(nearest.units[u].compress, f.compress.weights, 3 * u, block: compressBlock)),
                (error(gptq.units[u].depthwise, f.depthwise.weights, 3 * u + 1, block: { $0 }),
                 error(nearest.units[u].depthwise, f.depthwise.weights, 3 * u + 1, block: { $0 })),
            ]
            for (g, n) in pairs {
                #expect(g <= n * (1 + 1e-6), "unit \(unit.index): GPTQ \(g) > nearest \(n)")
                totals.gptq += g
                totals.nearest += n
            }
        }
        let classifier = (error(gptq.classifier, folded.classifierWeights, grams.classifierIndex, block: { _ in 0 }),
                          error(nearest.classifier, folded.classifierWeights, grams.classifierIndex, block: { _ in 0 }))
        #expect(classifier.0 <= classifier.1)
        #expect(totals.gptq + classifier.0 < 0.9 * (totals.nearest + classifier.1))
    }
}
