import Testing
import ShuffleNetEngine

/// The fast model (folded BatchNorm, folded shuffle, SIMD kernels) against the literal reference network.
@Suite struct ModelTests {
    static let configurations: [(Double, Int)] = [(0.5, 1), (0.5, 2), (0.5, 3), (0.5, 4), (0.5, 8), (1, 3), (0.25, 8), (1.5, 2)]

    @Test(arguments: configurations)
    func fastModelMatchesReferenceOnSmallInputs(scale: Double, groups: Int) throws {
        for shuffle in ChannelShuffleConvention.allCases {
            let config = try ShuffleNetConfiguration(scale: scale, groups: groups, numClasses: 37, shuffle: shuffle)
            let weights = ShuffleNetWeights.random(configuration: config, seed: UInt64(groups) * 31 + 7)
            // 64x64 keeps the naive reference quick; 7x7 planes end up 2x2, exercising odd plane padding.
            var rng = TestRandom(5)
            let input = rng.array(3 * 64 * 64).map { $0 * 100 }
            let fast = ShuffleNetModel(weights: weights, inputSize: 64).logits(for: input)
            let reference = ReferenceNetwork(weights: weights, inputSize: 64).logits(for: input)
            #expect(relativeError(fast, reference) < 1e-4, "\(config)")
        }
    }

    @Test func fastModelMatchesReferenceAt224() throws {
        let config = try ShuffleNetConfiguration(scale: 0.5, groups: 3, classifierHasBias: true)
        let weights = ShuffleNetWeights.random(configuration: config, seed: 3)
        var rng = TestRandom(11)
        let input = rng.array(3 * 224 * 224).map { $0 * 128 + 128 }
        let model = ShuffleNetModel(weights: weights)
        let workspace = model.makeWorkspace()
        let fast = model.logits(for: input, workspace: workspace)
        #expect(relativeError(fast, ReferenceNetwork(weights: weights).logits(for: input)) < 1e-4)
        // A reused workspace gives the same answer (no state leaks between runs).
        #expect(model.logits(for: input, workspace: workspace) == fast)
    }

    @Test func shuffleConventionChangesTheAnswer() throws {
        // The same tensors read with the other convention must not silently agree (g > 1).
        let megvii = try ShuffleNetConfiguration(scale: 0.5, groups: 3, shuffle: .megvii)
        let paper = try ShuffleNetConfiguration(scale: 0.5, groups: 3, shuffle: .paper)
        let weights = ShuffleNetWeights.random(configuration: megvii, seed: 2)
        let swapped = try ShuffleNetWeights(configuration: paper, tensors: weights.tensors)
        var rng = TestRandom(3)
        let input = rng.array(3 * 64 * 64).map { $0 * 100 }
        let a = ShuffleNetModel(weights: weights, inputSize: 64).logits(for: input)
        let b = ShuffleNetModel(weights: swapped, inputSize: 64).logits(for: input)
        #expect(relativeError(a, b) > 1e-2)
    }
}
