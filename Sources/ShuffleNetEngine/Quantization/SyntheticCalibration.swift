extension QuantizedWeights {
    /// Quantizes fp32 weights with activation ranges calibrated on `count` seeded random inputs (uniform in 0..<255,
    /// the range of Megvii's BGR input): what `shufflenet bench --precision int8` times when no int8 file is given.
    /// The speed of the int8 network does not depend on the values, only on the shapes; the accuracy of such a
    /// network means nothing.
    package static func calibrating(_ weights: ShuffleNetWeights, randomInputs count: Int = 2, seed: UInt64 = 1,
                                    method: CalibrationMethod = .standard, recheckWeights: Bool = true) throws(WeightsError) -> QuantizedWeights {
        let folded = FoldedNetwork(weights: weights)
        var statistics = ActivationStatistics(plan: folded.plan)
        var generator = SplitMix64(seed: seed)
        let inputCount = 3 * folded.plan.inputSize * folded.plan.inputSize
        for _ in 0..<max(1, count) {
            let input = (0..<inputCount).map { _ in Float.random(in: 0..<255, using: &generator) }
            _ = folded.logits(for: input, observe: { point, values in statistics.add(point.index, values) })
            statistics.finishImage()
        }
        return try folded.quantized(statistics: statistics, method: method, metadata: weights.metadata, recheckWeights: recheckWeights)
    }
}
