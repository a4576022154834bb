// Short, empty and mismatched arrays, buffers and sizes given to the engine's public entry points: each gives a
// typed error, never an out-of-bounds read or a trap.
import ShuffleNetEngine
import Testing

@Suite struct EngineBadInputTests {
    static let configuration = try! ShuffleNetConfiguration(scale: 0.25, groups: 2, numClasses: 10)
    static let weights = ShuffleNetWeights.random(configuration: configuration, seed: 3)

    @Test(arguments: [0, -1, Int.min, 4097, Int.max])
    func inputSizeOutsideTheRangeIsAnError(size: Int) {
        #expect(throws: ModelInputError.inputSize(size, allowed: ShuffleNetModel.inputSizes)) {
            try ShuffleNetModel(weights: Self.weights, inputSize: size)
        }
    }

    @Test(arguments: [0, 1, 3 * 32 * 32 - 1, 3 * 32 * 32 + 1, 3 * 224 * 224])
    func inputOfTheWrongLengthIsAnError(count: Int) throws {
        let model = try ShuffleNetModel(weights: Self.weights, inputSize: 32)
        let input = [Float](repeating: 1, count: count)
        #expect(throws: ModelInputError.inputCount(expected: 3 * 32 * 32, actual: count)) {
            try model.logits(for: input)
        }
        #expect(throws: ModelInputError.inputCount(expected: 3 * 32 * 32, actual: count)) {
            try model.logits(for: input, workspace: model.makeWorkspace())
        }
    }

    @Test(arguments: [0, 9, 11])
    func logitsBufferOfTheWrongLengthIsAnError(count: Int) throws {
        let model = try ShuffleNetModel(weights: Self.weights, inputSize: 32)
        let input = [Float](repeating: 1, count: model.inputCount)
        var logits = [Float](repeating: 0, count: count)
        #expect(throws: ModelInputError.outputCount(expected: 10, actual: count)) {
            try input.withUnsafeBufferPointer { x in
                try logits.withUnsafeMutableBufferPointer { y in try model.logits(for: x, into: y) }
            }
        }
    }

    @Test func emptyBuffersAreErrors() throws {
        let model = try ShuffleNetModel(weights: Self.weights, inputSize: 32)
        var logits = [Float](repeating: 0, count: 10)
        #expect(throws: ModelInputError.inputCount(expected: model.inputCount, actual: 0)) {
            try logits.withUnsafeMutableBufferPointer { y in
                try model.logits(for: UnsafeBufferPointer(start: nil, count: 0), into: y)
            }
        }
        let input = [Float](repeating: 1, count: model.inputCount)
        #expect(throws: ModelInputError.outputCount(expected: 10, actual: 0)) {
            try input.withUnsafeBufferPointer { x in
                try model.logits(for: x, into: UnsafeMutableBufferPointer(start: nil, count: 0))
            }
        }
    }

    /// A workspace sized for a smaller plan would be written past its end.
    @Test func workspaceOfAnotherModelIsAnError() throws {
        let large = try ShuffleNetModel(weights: Self.weights, inputSize: 64)
        let small = try ShuffleNetModel(weights: Self.weights, inputSize: 32)
        let input = [Float](repeating: 1, count: large.inputCount)
        #expect(throws: ModelInputError.self) { try large.logits(for: input, workspace: small.makeWorkspace()) }
        let other = try ShuffleNetModel(
            weights: ShuffleNetWeights.random(configuration: try ShuffleNetConfiguration(scale: 0.5, groups: 2, numClasses: 10)),
            inputSize: 64)
        #expect(throws: ModelInputError.self) { try large.logits(for: input, workspace: other.makeWorkspace()) }
        // The right workspace still works after the refusals.
        #expect(try large.logits(for: input, workspace: large.makeWorkspace()).count == 10)
    }

    @Test func tensorsOfTheWrongLengthAreErrors() throws {
        var tensors = Self.weights.tensors
        tensors["classifier.0.weight"] = []
        #expect(throws: WeightsError.self) { try ShuffleNetWeights(configuration: Self.configuration, tensors: tensors) }
        tensors["classifier.0.weight"] = [1, 2, 3]
        #expect(throws: WeightsError.self) { try ShuffleNetWeights(configuration: Self.configuration, tensors: tensors) }
        tensors = Self.weights.tensors
        tensors["first_conv.1.running_var"]?.append(1)
        #expect(throws: WeightsError.self) { try ShuffleNetWeights(configuration: Self.configuration, tensors: tensors) }
        #expect(throws: WeightsError.self) { try ShuffleNetWeights(configuration: Self.configuration, tensors: [:]) }
    }

    @Test(arguments: [[], [0], [1, 2, 3, 4, 5, 6, 7], [8, 0, 0, 0, 0, 0, 0, 0, 0x7b]] as [[UInt8]])
    func truncatedSafeTensorsAreErrors(bytes: [UInt8]) {
        #expect(throws: WeightsError.self) { try SafeTensorsFile(bytes: bytes, path: "short.safetensors") }
    }
}
