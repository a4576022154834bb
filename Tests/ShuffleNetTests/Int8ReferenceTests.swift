import Foundation
import SharedTestData
import ShuffleNet
import ShuffleNetEngine
import Testing

/// The int8 reference network against the independent NumPy forward pass of the same int8 file
/// (Scripts/reference_int8_forward.py, written from Weights/README.md's formulas): Megvii's 0.5x g3 quantized
/// on the 50 shared photos by `Int8Quantizer` (what `shufflenet quantize` runs), then both run on those photos.
@Suite struct Int8ReferenceTests {
    struct ReferenceFile: Decodable {
        struct Image: Decodable { let path: String; let logits: [Double]; let features: [Double] }
        let images: [Image]
    }

    static let python = SharedTestData.packageRoot + "/.venv/bin/python"
    static let available = SharedTestData.root != nil && FileManager.default.isExecutableFile(atPath: python)
    static let skip: Comment = "needs the shared photos and checkpoints and the NumPy venv (Scripts/make_reference_logits makes it)"

    /// With recheck weights (the default) the classifier is the binary16 one on the fp32 features; without, the s8 one.
    @Test(.enabled(if: available, skip), arguments: [true, false])
    func int8NetworkMatchesTheNumPyReference(recheckWeights: Bool) throws {
        let directory = NSTemporaryDirectory() + "int8-reference-\(getpid())-\(recheckWeights)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let weights = try CheckpointConverter.convert(checkpointAt: try #require(SharedTestData.checkpoint(groups: 3)))
        let classifier = try ImageClassifier(weights: weights)
        let photos = SharedTestData.photos
        #expect(photos.count == 50)
        var quantizer = Int8Quantizer(classifier: classifier, method: .standard)
        quantizer.recheckWeights = recheckWeights
        let quantized = try quantizer.quantize(paths: photos)
        #expect((quantized.weights.recheck != nil) == recheckWeights)
        #expect(quantized.photosUsed == 50)
        let file = directory + "/g3-int8.safetensors"
        try quantized.weights.safeTensors().write(to: file)
        let loaded = try QuantizedWeights(contentsOf: file)
        #expect(loaded.units == quantized.weights.units)
        if CLITestSupport.binary != nil {
            // inspect reads int8 files with the same complete checks and says so.
            let inspect = try CLITestSupport.run(["inspect", "--weights", file, "--format", "json"], in: directory)
            #expect(inspect.status == 0, "\(inspect.stderr)")
            let json = try JSONSerialization.jsonObject(with: inspect.stdout) as? [String: Any]
            let info = json?["weights"] as? [String: Any]
            #expect(info?["precision"] as? String == "int8")
            #expect((info?["metadata"] as? [String: String])?["quantization_method"] == CalibrationMethod.standard.description)
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = [SharedTestData.packageRoot + "/Scripts/reference_int8_forward.py", "--weights", file,
                             "--output", directory + "/reference.json"] + photos
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let reference = try JSONDecoder().decode(ReferenceFile.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/reference.json")))
        #expect(reference.images.map(\.path) == photos)

        let network = QuantizedReferenceNetwork(weights: loaded)
        var input = [Float](repeating: 0, count: Preprocessor.tensorCount)
        var worst = 0.0, sameTop1 = 0
        for image in reference.images {
            _ = try input.withUnsafeMutableBufferPointer { try classifier.writeInput(forImageAt: image.path, into: $0) }
            let (logits, features) = network.run(input)
            let spread = image.logits.max()! - image.logits.min()!
            let error = zip(logits, image.logits).map { abs(Double($0) - $1) }.max()! / spread
            worst = max(worst, error)
            #expect(error < 1e-5, "\(image.path): int8 logits differ from NumPy's by \(error) of their spread")
            let featureError = zip(features, image.features).map { abs(Double($0) - $1) }.max()! / (image.features.max()! + 1e-12)
            #expect(featureError < 1e-5, "\(image.path): features differ by \(featureError)")
            if logits.indices.max(by: { logits[$0] < logits[$1] }) == image.logits.indices.max(by: { image.logits[$0] < image.logits[$1] }) {
                sameTop1 += 1
            }
        }
        #expect(sameTop1 == 50)
        print("int8 reference vs NumPy (recheck weights \(recheckWeights)): 50 photos, worst logit difference \(worst) of the spread, same top-1 on \(sameTop1)")

        // The fast int8 engine, on every kernel variant this CPU runs, against the same NumPy reference. Its conv1 is
        // the fp32 engine's (another summation order than NumPy's), so a stem value can land on the other side of a
        // rounding boundary and move a code by one step; everything after it is exact integer arithmetic.
        var inputs: [[Float]] = []
        for image in reference.images {
            _ = try input.withUnsafeMutableBufferPointer { try classifier.writeInput(forImageAt: image.path, into: $0) }
            inputs.append(input)
        }
        for variant in KernelVariant.supported {
            let model = try ShuffleNetModel(quantized: loaded, inputSize: Preprocessor.cropSize, kernels: variant)
            #expect(model.precision == .int8)
            let workspace = model.makeWorkspace()
            var worstEngine = 0.0, engineTop1 = 0, exact = 0
            for (image, x) in zip(reference.images, inputs) {
                let logits = try model.logits(for: x, workspace: workspace)
                let spread = image.logits.max()! - image.logits.min()!
                let error = zip(logits, image.logits).map { abs(Double($0) - $1) }.max()! / spread
                worstEngine = max(worstEngine, error)
                if error < 1e-5 { exact += 1 }
                if logits.indices.max(by: { logits[$0] < logits[$1] }) == image.logits.indices.max(by: { image.logits[$0] < image.logits[$1] }) {
                    engineTop1 += 1
                }
            }
            #expect(worstEngine < 0.05, "\(variant): int8 engine logits differ from NumPy's by \(worstEngine) of their spread")
            #expect(exact >= 40, "\(variant): only \(exact) of 50 photos give the reference's logits")
            #expect(engineTop1 >= 49, "\(variant): the int8 engine's top-1 is the reference's on \(engineTop1) of 50")
            print("int8 engine (\(variant), recheck weights \(recheckWeights)) vs NumPy: \(exact)/50 photos exact, worst \(worstEngine) of the spread, same top-1 on \(engineTop1)")
        }
    }
}
