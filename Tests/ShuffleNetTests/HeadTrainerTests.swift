import Foundation
import ShuffleNet
import ShuffleNetBatch
import ShuffleNetEngine
import ShuffleNetImage
import Testing

/// `train` end to end on small generated photo folders (random backbone, so it runs anywhere): the file it
/// writes loads with the user's labels and computes what the fitted head computes; and the error cases.
@Suite struct HeadTrainerTests {
    static func randomBackbone() throws -> ImageClassifier {
        let random = ShuffleNetWeights.random(configuration: try ShuffleNetConfiguration(scale: 0.5, groups: 3), seed: 7)
        return try ImageClassifier(weights: try ShuffleNetWeights(configuration: random.configuration, tensors: random.tensors,
                                                                  metadata: ["preprocessing": "megvii", "labels": "imagenet-1k"]))
    }

    /// `count` 40x30 PNGs per class: reddish for "red", bluish for "blue", with seeded noise.
    static func makeTree(_ root: String, classes: [String: Int], seed: UInt64 = 9) throws {
        var state = seed
        for (label, count) in classes.sorted(by: { $0.key < $1.key }) {
            let dir = root + "/" + label + "/sub"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for i in 0..<count {
                var pixels = [UInt8](repeating: 0, count: 40 * 30 * 3)
                for p in 0..<(40 * 30) {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    let noise = UInt8(state >> 59)  // 0...31
                    pixels[3 * p] = label == "red" ? 200 + noise : 40 + noise
                    pixels[3 * p + 1] = 60 + noise
                    pixels[3 * p + 2] = label == "red" ? 40 + noise : 200 + noise
                }
                try PNGWriter.write(try RGBImage(width: 40, height: 30, pixels: pixels), to: dir + "/\(label)\(i).png")
            }
        }
    }

    static func options() -> HeadTrainer.Options {
        var options = HeadTrainer.Options()
        options.folds = 2
        options.threads = 2
        options.validationFraction = 0.34
        options.cGrid = [0.1, 1]
        return options
    }

    @Test(arguments: [HeadTrainer.FeatureBasis.backboneLogits, .pooled])
    func trainedFileRoundTripsWithTheUsersLabels(basis: HeadTrainer.FeatureBasis) throws {
        let root = try BatchTestSupport.temporaryDirectory("train")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.makeTree(root + "/photos", classes: ["red": 6, "blue": 6])
        let photos = try LabelledPhotos.scan(directory: root + "/photos")
        #expect(photos.labels == ["blue", "red"])
        #expect(photos.photos.count == 12)
        var options = Self.options()
        options.basis = basis
        options.refitOnAllPhotos = false
        options.standardize = basis == .pooled
        let backbone = try Self.randomBackbone()
        let result = try HeadTrainer(backbone: backbone, options: options).train(photos)
        #expect(result.report.validationPhotos == [2, 2])
        #expect(result.report.trainingPhotos == [4, 4])
        #expect(result.report.confusion.flatMap { $0 }.reduce(0, +) == 4)
        // Deterministic: the same run gives the same head.
        let again = try HeadTrainer(backbone: backbone, options: options).train(photos)
        #expect(again.model == result.model)

        let file = root + "/model.safetensors"
        try result.weights.safeTensors().write(to: file)
        let loaded = try ImageClassifier(weightsAt: file)  // the complete checks of every weights file
        #expect(loaded.labels == ["blue", "red"])
        #expect(loaded.weights.configuration.numClasses == 2)
        #expect(loaded.weights.metadata["labels"] == "custom")
        let training = try #require(loaded.weights.metadata["head_training"])
        #expect(training.contains("\"labels\":[\"blue\",\"red\"]"))
        // The file's logits equal the fitted head applied to the features it was fitted on (folding checked).
        let extractor = FeatureExtractor(classifier: backbone)
        for photo in photos.photos.prefix(4) {
            var input = [Float](repeating: 0, count: Preprocessor.tensorCount)
            _ = try input.withUnsafeMutableBufferPointer { try loaded.writeInput(forImageAt: photo.path, into: $0) }
            let logits = try loaded.logits(forInput: input).map(Double.init)
            let pooled = try extractor.features(forInput: input).map(Double.init)
            var z = pooled
            if basis == .backboneLogits {
                let w = try #require(backbone.weights.float32).tensors["classifier.0.weight"]!
                z = (0..<1000).map { k in (0..<480).reduce(0.0) { $0 + Double(w[k * 480 + $1]) * pooled[$1] } }
            }
            if basis == .pooled {
                // Standardised: undo with the training mean and deviation is not exposed; compare differences instead.
                let p = try loaded.classify(imageAt: photo.path, topK: 2)
                #expect(Set(p.map(\.label)) == ["blue", "red"])
                continue
            }
            let expected = result.model.scores(z)
            let scale = max(1, expected.map(abs).max()!)
            for k in 0..<2 {
                #expect(abs(logits[k] - expected[k]) / scale < 1e-4, "\(photo.path) class \(k): \(logits[k]) vs \(expected[k])")
            }
            let top = try loaded.classify(imageAt: photo.path, topK: 1)[0]
            #expect(top.label == (expected[1] > expected[0] ? "red" : "blue"))
        }
    }

    @Test func customLabelsAreChecked() throws {
        let random = ShuffleNetWeights.random(configuration: try ShuffleNetConfiguration(scale: 0.5, groups: 3, numClasses: 2), seed: 3)
        func classifier(_ names: String?) throws -> ImageClassifier {
            var metadata = ["preprocessing": "megvii", "labels": "custom"]
            metadata["class_names"] = names
            return try ImageClassifier(weights: try ShuffleNetWeights(configuration: random.configuration, tensors: random.tensors, metadata: metadata))
        }
        #expect(try classifier("[\"a\",\"b\"]").labels == ["a", "b"])
        #expect(throws: ClassifierError.self) { try classifier("[\"a\"]") }
        #expect(throws: ClassifierError.self) { try classifier("not json") }
        #expect(throws: ClassifierError.self) { try classifier(nil) }
    }

    @Test func folderProblemsHaveClearMessages() throws {
        let root = try BatchTestSupport.temporaryDirectory("train-errors")
        defer { try? FileManager.default.removeItem(atPath: root) }
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        #expect(message { _ = try LabelledPhotos.scan(directory: root + "/missing") }.contains("not a directory"))
        try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
        #expect(message { _ = try LabelledPhotos.scan(directory: root + "/empty") }.contains("no class folders"))
        try Self.makeTree(root + "/one", classes: ["red": 3])
        #expect(message { _ = try LabelledPhotos.scan(directory: root + "/one") }.contains("only one class (\"red\")"))
        try Self.makeTree(root + "/hollow", classes: ["red": 3])
        try FileManager.default.createDirectory(atPath: root + "/hollow/blue", withIntermediateDirectories: true)
        #expect(message { _ = try LabelledPhotos.scan(directory: root + "/hollow") }.contains("without photos"))
        // A class with one photo: refused after extraction, naming the class and its count.
        try Self.makeTree(root + "/few", classes: ["red": 4, "blue": 1])
        let few = try LabelledPhotos.scan(directory: root + "/few")
        let text = message { _ = try HeadTrainer(backbone: try Self.randomBackbone(), options: Self.options()).train(few) }
        #expect(text.contains("at least 2 readable photos") && text.contains("blue (1)"), "\(text)")
    }

    @Test func unreadableAndDuplicatedPhotosAreReportedAndLeftOut() throws {
        let root = try BatchTestSupport.temporaryDirectory("train-bad")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.makeTree(root + "/photos", classes: ["red": 5, "blue": 5])
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: root + "/photos/red/broken.jpg"))
        try FileManager.default.copyItem(atPath: root + "/photos/red/sub/red0.png", toPath: root + "/photos/blue/copy.png")
        try Data("notes".utf8).write(to: URL(fileURLWithPath: root + "/photos/blue/sub/notes.txt"))
        let photos = try LabelledPhotos.scan(directory: root + "/photos")
        #expect(photos.photos.count == 12)
        #expect(photos.otherFiles == [root + "/photos/blue/sub/notes.txt"])
        let result = try HeadTrainer(backbone: try Self.randomBackbone(), options: Self.options()).train(photos)
        #expect(result.report.unreadable.count == 1)
        #expect(result.report.unreadable.first?.contains("broken.jpg") == true)
        #expect(result.report.duplicates.count == 1)
        #expect(Set(result.report.duplicates[0].labels) == ["blue", "red"])
        // 12 listed, 2 duplicates and 1 unreadable left out.
        let used: Int = result.report.trainingPhotos.reduce(0, +) + result.report.validationPhotos.reduce(0, +)
        #expect(used == 9)
    }

    @Test func aPhotoInBothTrainingAndValidationFoldersLosesItsValidationCopy() throws {
        let root = try BatchTestSupport.temporaryDirectory("train-leak")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.makeTree(root + "/train", classes: ["red": 4, "blue": 4])
        try Self.makeTree(root + "/val", classes: ["red": 2, "blue": 2], seed: 10)  // other noise: no photo in common
        try FileManager.default.copyItem(atPath: root + "/train/red/sub/red1.png", toPath: root + "/val/red/leaked.png")
        let training = try LabelledPhotos.scan(directory: root + "/train")
        let validation = try LabelledPhotos.scan(directory: root + "/val", requireTwoClasses: false)
        var options = Self.options()
        options.validationFraction = 0
        let result = try HeadTrainer(backbone: try Self.randomBackbone(), options: options).train(training, validation: validation)
        #expect(result.report.duplicates.count == 1)
        #expect(result.report.duplicates.first?.labels == ["red", "red"])
        #expect(result.report.duplicates.first?.leftOut == [root + "/val/red/leaked.png"])
        #expect(result.report.trainingPhotos == [4, 4])   // labels in natural order: blue, red
        #expect(result.report.validationPhotos == [2, 2])
    }

    @Test func npyFileHasAStandardVersion1Header() throws {
        let data = [UInt8](try NumPyFile.float32Matrix([[1, 2, 3], [4, 5, -0.5]], columns: 3))
        #expect(data.count == NumPyFile.float32MatrixHeaderSize + 24)
        let ragged = #expect(throws: NumPyFile.RaggedRowError.self) { try NumPyFile.float32Matrix([[1, 2, 3], [4, 5]], columns: 3) }
        #expect(ragged?.description == "row 1 has 2 values, the matrix has 3 columns")
        #expect(Array(data[0..<8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
        #expect(header.hasSuffix("\n"))
        let values = stride(from: 10 + headerLength, to: data.count, by: 4).map { i in
            Float(bitPattern: UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24)
        }
        #expect(values == [1, 2, 3, 4, 5, -0.5])
    }
}
