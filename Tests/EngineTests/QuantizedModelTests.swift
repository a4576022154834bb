import Foundation
import Testing
@testable import ShuffleNetEngine

/// The int8 model (packed kernels on channel blocks, the shuffle folded into the depthwise, the residual fused,
/// the stride-2 concat) against the literal int8 reference network, on random weights quantized with ranges from
/// random inputs. The model's conv1 is the fp32 engine's, the reference's a naive loop: a stem value can round to
/// the neighbouring code, so the logits are compared within a tolerance far below what a wrong zero point, scale,
/// shuffle or block offset gives (those move them by a large part of their spread); the kernels themselves are
/// tested exactly in QuantizedPointwiseTests, QuantizedDepthwiseTests and QuantizedPoolingTests.
@Suite struct QuantizedModelTests {
    /// Every g at 0.5x (g8: the first unit's 22-channel groups are copied into the concat), 0.75x g3 (an 18-channel
    /// stem, not whole blocks), 0.25x g2 and 1x g3.
    static let configurations: [(Double, Int)] = [(0.5, 1), (0.5, 2), (0.5, 3), (0.5, 4), (0.5, 8), (0.75, 3), (0.25, 2), (1, 3)]

    /// With recheck weights (the default) the classifier is the binary16 one on fp32 features; without, the s8 one.
    static func quantized(scale: Double, groups: Int, seed: UInt64, recheckWeights: Bool = true) throws -> QuantizedWeights {
        let config = try ShuffleNetConfiguration(scale: scale, groups: groups, numClasses: 37)
        return try QuantizedWeights.calibrating(ShuffleNetWeights.random(configuration: config, seed: seed), randomInputs: 1, seed: seed,
                                                recheckWeights: recheckWeights)
    }

    static func compare(_ fast: [Float], _ reference: [Float], _ what: String) {
        let spread = reference.max()! - reference.min()!
        let error = zip(fast, reference).map { abs($0 - $1) }.max()! / spread
        #expect(error < 0.02, "\(what): int8 logits differ from the reference's by \(error) of their spread")
    }

    @Test(arguments: configurations)
    func int8ModelMatchesTheReference(scale: Double, groups: Int) throws {
        try Self.check(try Self.quantized(scale: scale, groups: groups, seed: UInt64(groups) * 7 + 3), scale: scale, groups: groups)
    }

    /// The s8 classifier (files without recheck weights) on a few shapes; the two heads give different logits.
    @Test(arguments: [(0.5, 3), (0.5, 8), (0.25, 2)])
    func int8ModelWithTheS8ClassifierMatchesTheReference(scale: Double, groups: Int) throws {
        let seed = UInt64(groups) * 7 + 3
        let s8 = try Self.quantized(scale: scale, groups: groups, seed: seed, recheckWeights: false)
        #expect(s8.recheck == nil)
        try Self.check(s8, scale: scale, groups: groups)
        let input = [Float](repeating: 100, count: 3 * 64 * 64)
        let binary16 = try Self.quantized(scale: scale, groups: groups, seed: seed)
        #expect(try ShuffleNetModel(quantized: s8, inputSize: 64).logits(for: input)
                != ShuffleNetModel(quantized: binary16, inputSize: 64).logits(for: input))
    }

    static func check(_ weights: QuantizedWeights, scale: Double, groups: Int) throws {
        var rng = TestRandom(UInt64(groups) + 40)
        let input = rng.array(3 * 64 * 64).map { $0 * 127 + 128 }
        let reference = QuantizedReferenceNetwork(weights: weights, inputSize: 64).run(input)
        for variant in KernelVariant.supported {
            let model = try ShuffleNetModel(quantized: weights, inputSize: 64, kernels: variant)
            #expect(model.precision == .int8)
            for threads in [1, 2] {
                let workspace = model.makeWorkspace(threads: threads)
                var features = [Float](repeating: 0, count: model.plan.finalChannels)
                var logits = [Float](repeating: 0, count: 37)
                input.withUnsafeBufferPointer { x in
                    model.run(input: x.baseAddress!, logits: &logits, workspace: workspace, features: &features)
                }
                Self.compare(logits, reference.logits, "\(variant) s=\(scale) g=\(groups) threads \(threads)")
                Self.compare(features, reference.features, "\(variant) s=\(scale) g=\(groups) threads \(threads) features")
                // A reused workspace gives the same answer (the stride-1 units write over their input).
                #expect(try model.logits(for: input, workspace: workspace) == logits)
            }
        }
    }

    @Test func int8ModelAt224OnTwoThreads() throws {
        let weights = try Self.quantized(scale: 0.5, groups: 3, seed: 5)
        var rng = TestRandom(9)
        let input = rng.array(3 * 224 * 224).map { $0 * 127 + 128 }
        let reference = QuantizedReferenceNetwork(weights: weights).run(input)
        let model = try ShuffleNetModel(quantized: weights)
        Self.compare(try model.logits(for: input, workspace: model.makeWorkspace(threads: 2)), reference.logits, "224 on 2 threads")
    }

    @Test func workspacesAreNotSharedAcrossPrecisions() throws {
        let config = try ShuffleNetConfiguration(scale: 0.25, groups: 2, numClasses: 10)
        let fp32 = ShuffleNetWeights.random(configuration: config, seed: 2)
        let int8 = try ShuffleNetModel(quantized: QuantizedWeights.calibrating(fp32, randomInputs: 1), inputSize: 32)
        let float = try ShuffleNetModel(weights: fp32, inputSize: 32)
        let input = [Float](repeating: 10, count: 3 * 32 * 32)
        #expect(throws: ModelInputError.self) { try int8.logits(for: input, workspace: float.makeWorkspace()) }
        #expect(throws: ModelInputError.self) { try float.logits(for: input, workspace: int8.makeWorkspace()) }
    }

    @Test func networkWeightsLoadEitherPrecision() throws {
        let config = try ShuffleNetConfiguration(scale: 0.25, groups: 2, numClasses: 10)
        let fp32 = ShuffleNetWeights.random(configuration: config, seed: 2)
        let int8 = try QuantizedWeights.calibrating(fp32, randomInputs: 1)
        let directory = NSTemporaryDirectory() + "network-weights-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try fp32.safeTensors().write(to: directory + "/fp32.safetensors")
        try int8.safeTensors().write(to: directory + "/int8.safetensors")
        let a = try NetworkWeights(contentsOf: directory + "/fp32.safetensors")
        let b = try NetworkWeights(contentsOf: directory + "/int8.safetensors")
        #expect(a.precision == .fp32 && b.precision == .int8)
        #expect(a.configuration == config && b.configuration == config)
        #expect(try ShuffleNetModel(weights: b, inputSize: 32).precision == .int8)
        guard case .int8(let loaded) = b else { Issue.record("not int8"); return }
        #expect(loaded.units == int8.units)
    }
}
