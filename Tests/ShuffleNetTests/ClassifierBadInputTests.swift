// Short, empty and mismatched arrays and buffers given to ImageClassifier: typed errors, never traps.
import ShuffleNet
import ShuffleNetEngine
import ShuffleNetImage
import Testing

@Suite struct ClassifierBadInputTests {
    static func classifier() throws -> ImageClassifier {
        let random = ShuffleNetWeights.random(configuration: try ShuffleNetConfiguration(scale: 0.25, groups: 2, numClasses: 10), seed: 1)
        let weights = try ShuffleNetWeights(configuration: random.configuration, tensors: random.tensors,
                                            metadata: ["preprocessing": "megvii"])
        return try ImageClassifier(weights: weights)
    }

    @Test(arguments: [0, 1, Preprocessor.tensorCount - 1, Preprocessor.tensorCount + 1, 3 * 32 * 32])
    func logitsForInputOfTheWrongLengthIsAnError(count: Int) throws {
        let classifier = try Self.classifier()
        let error = #expect(throws: ClassifierError.self) {
            try classifier.logits(forInput: [Float](repeating: 0.5, count: count))
        }
        guard case .invalidInput(.inputCount(let expected, let actual)) = error else {
            Issue.record("expected invalidInput(inputCount), got \(String(describing: error))")
            return
        }
        #expect(expected == Preprocessor.tensorCount && actual == count)
        // The classifier still works afterwards.
        #expect(try classifier.logits(forInput: [Float](repeating: 0.5, count: Preprocessor.tensorCount)).count == 10)
    }

    @Test(arguments: [0, 1, Preprocessor.tensorCount - 1, Preprocessor.tensorCount + 1])
    func writeInputIntoABufferOfTheWrongLengthIsAnError(count: Int) throws {
        let classifier = try Self.classifier()
        var buffer = [Float](repeating: 0, count: count)
        let error = #expect(throws: ClassifierError.self) {
            try buffer.withUnsafeMutableBufferPointer { try classifier.writeInput(forImageAt: "/nonexistent.jpg", into: $0) }
        }
        guard case .invalidInput(.inputCount(Preprocessor.tensorCount, count)) = error else {
            Issue.record("expected invalidInput(inputCount), got \(String(describing: error))")
            return
        }
    }

    @Test func writeInputIntoAnEmptyBufferIsAnError() throws {
        let classifier = try Self.classifier()
        #expect(throws: ClassifierError.self) {
            try classifier.writeInput(forImageAt: "/nonexistent.jpg", into: UnsafeMutableBufferPointer(start: nil, count: 0))
        }
    }

    @Test func topPredictionsOfEmptyOrMismatchedArraysDoNotTrap() {
        #expect(ImageClassifier.topPredictions(logits: [], labels: ["a"], k: 5).isEmpty)
        #expect(ImageClassifier.topPredictions(logits: [1, 2], labels: [], k: 5).map(\.label) == ["class 1", "class 0"])
        #expect(ImageClassifier.topPredictions(logits: [1, 2], labels: ["a", "b", "c"], k: 0).isEmpty)
        #expect(ImageClassifier.topPredictions(logits: [1, 2], labels: ["a", "b"], k: -3).isEmpty)
        #expect(ImageClassifier.topPredictions(logits: [1, 2], labels: ["a", "b"], k: Int.max).count == 2)
    }

    @Test(arguments: [(0, 0, 0), (2, 2, 11), (2, 2, 13), (-1, 2, 0), (1, 1, 0)])
    func imagesWhosePixelsDoNotMatchTheirSizeAreErrors(width: Int, height: Int, pixelCount: Int) {
        #expect(throws: RGBImageError.self) {
            try RGBImage(width: width, height: height, pixels: [UInt8](repeating: 0, count: pixelCount))
        }
    }
}
