import Testing
import ShuffleNetEngine

/// The fast model (folded BatchNorm, folded shuffle, SIMD kernels) against the literal reference network.
@Suite struct ModelTests {
    /// Every g at the scales `bench --sweep` and `Scripts/compare-runtimes` use (0.5, 1, 2), and two odd scales.
    static let configurations: [(Double, Int)] = [0.5, 1, 2].flatMap { s in [1, 2, 3, 4, 8].map { (s, $0) } } + [(0.25, 8), (1.5, 2)]

    @Test(arguments: configurations)
    func fastModelMatchesReferenceOnSmallInputs(scale: Double, groups: Int) throws {
        for shuffle in ChannelShuffleConvention.allCases {
            let config = try ShuffleNetConfiguration(scale: scale, groups: groups, numClasses: 37, shuffle: shuffle)
            let weights = ShuffleNetWeights.random(configuration: config, seed: UInt64(groups) * 31 + 7)
            // 64x64 keeps the naive reference quick; 7x7 planes end up 2x2, exercising odd plane padding.
            var rng = TestRandom(5)
            let input = rng.array(3 * 64 * 64).map { $0 * 100 }
            let fast = try ShuffleNetModel(weights: weights, inputSize: 64).logits(for: input)
            let reference = ReferenceNetwork(weights: weights, inputSize: 64).logits(for: input)
            #expect(relativeError(fast, reference) < 1e-4, "\(config)")
        }
    }

    @Test func fastModelMatchesReferenceAt224() throws {
        let config = try ShuffleNetConfiguration(scale: 0.5, groups: 3, classifierHasBias: true)
        let weights = ShuffleNetWeights.random(configuration: config, seed: 3)
        var rng = TestRandom(11)
        let input = rng.array(3 * 224 * 224).map { $0 * 128 + 128 }
        let model = try ShuffleNetModel(weights: weights)
        let workspace = model.makeWorkspace()
        let fast = try model.logits(for: input, workspace: workspace)
        #expect(relativeError(fast, ReferenceNetwork(weights: weights).logits(for: input)) < 1e-4)
        // A reused workspace gives the same answer (no state leaks between runs).
        #expect(try model.logits(for: input, workspace: workspace) == fast)
    }

    /// The whole network on each kernel variant (not only the one dispatch picks), against the reference network:
    /// every g at 64x64, and 0.5x g3 at 224x224 on two threads.
    @Test(arguments: KernelVariant.allCases)
    func wholeNetworkOnEveryKernelVariant(variant: KernelVariant) throws {
        try skipUnlessSupported(variant)
        for groups in ShuffleNetConfiguration.supportedGroups {
            let config = try ShuffleNetConfiguration(scale: 0.5, groups: groups, numClasses: 37)
            let weights = ShuffleNetWeights.random(configuration: config, seed: UInt64(groups) * 13 + 1)
            var rng = TestRandom(UInt64(groups))
            let input = rng.array(3 * 64 * 64).map { $0 * 100 }
            let fast = try ShuffleNetModel(weights: weights, inputSize: 64, kernels: variant).logits(for: input)
            let reference = ReferenceNetwork(weights: weights, inputSize: 64).logits(for: input)
            #expect(relativeError(fast, reference) < 1e-4, "\(variant) \(config)")
        }
        let config = try ShuffleNetConfiguration(scale: 0.5, groups: 3, classifierHasBias: true)
        let weights = ShuffleNetWeights.random(configuration: config, seed: 3)
        var rng = TestRandom(11)
        let input = rng.array(3 * 224 * 224).map { $0 * 128 + 128 }
        let model = try ShuffleNetModel(weights: weights, kernels: variant)
        let fast = try model.logits(for: input, workspace: model.makeWorkspace(threads: 2))
        #expect(relativeError(fast, ReferenceNetwork(weights: weights).logits(for: input)) < 1e-4, "\(variant) at 224")
    }

    @Test func shuffleConventionChangesTheAnswer() throws {
        // The same tensors read with the other convention must not silently agree (g > 1).
        let megvii = try ShuffleNetConfiguration(scale: 0.5, groups: 3, shuffle: .megvii)
        let paper = try ShuffleNetConfiguration(scale: 0.5, groups: 3, shuffle: .paper)
        let weights = ShuffleNetWeights.random(configuration: megvii, seed: 2)
        let swapped = try ShuffleNetWeights(configuration: paper, tensors: weights.tensors)
        var rng = TestRandom(3)
        let input = rng.array(3 * 64 * 64).map { $0 * 100 }
        let a = try ShuffleNetModel(weights: weights, inputSize: 64).logits(for: input)
        let b = try ShuffleNetModel(weights: swapped, inputSize: 64).logits(for: input)
        #expect(relativeError(a, b) > 1e-2)
    }
}

/// Splitting layers or images over threads must not change a single bit of the result.
@Suite struct ThreadingTests {
    @Test(arguments: [1, 2, 3, 4, 8])
    func layerSplitMatchesOneThread(groups: Int) throws {
        let config = try ShuffleNetConfiguration(scale: 0.5, groups: groups, numClasses: 50)
        let model = try ShuffleNetModel(weights: ShuffleNetWeights.random(configuration: config, seed: 9), inputSize: 96)
        var rng = TestRandom(UInt64(groups))
        let input = rng.array(3 * 96 * 96).map { $0 * 100 }
        let single = try model.logits(for: input, workspace: model.makeWorkspace(threads: 1))
        for threads in [2, 3] {
            let workspace = model.makeWorkspace(threads: threads)
            for _ in 0..<3 { #expect(try model.logits(for: input, workspace: workspace) == single, "g=\(groups) threads=\(threads)") }
        }
    }

    @Test func batchRunnerMatchesImageByImage() throws {
        let config = try ShuffleNetConfiguration(scale: 0.5, groups: 3, numClasses: 20)
        let model = try ShuffleNetModel(weights: ShuffleNetWeights.random(configuration: config, seed: 4), inputSize: 64)
        var rng = TestRandom(17)
        let count = 7, size = 3 * 64 * 64
        let inputs = rng.array(count * size).map { $0 * 100 }
        let expected = try (0..<count).flatMap { i in try model.logits(for: Array(inputs[(i * size)..<((i + 1) * size)])) }
        for threads in [1, 2, 3] {
            let runner = BatchRunner(model: model, threads: threads)
            for batch in [1, count] {
                var logits = [Float](repeating: .nan, count: batch * 20)
                inputs.withUnsafeBufferPointer { x in
                    logits.withUnsafeMutableBufferPointer { runner.run(inputs: x.baseAddress!, count: batch, logits: $0.baseAddress!) }
                }
                #expect(logits == Array(expected.prefix(batch * 20)), "threads \(threads) batch \(batch)")
            }
        }
    }
}
