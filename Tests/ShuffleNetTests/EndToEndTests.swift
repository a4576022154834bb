import Foundation
import SharedTestData
import ShuffleNet
import ShuffleNetEngine
import ShuffleNetImage
import Testing

/// The whole pipeline (Swift decoding, preprocessing, converter and engine) against the independent NumPy
/// reference of Megvii's pipeline (Scripts/reference_forward.py: Pillow decode, cv2 resize, unfolded
/// BatchNorm in float64), on the 50 real ImageNet photos and both real checkpoints.
@Suite struct EndToEndTests {
    struct ReferenceFile: Decodable {
        struct Image: Decodable { let path: String; let logits: [Double] }
        let groups: Int
        let images: [Image]
    }

    static func reference(groups: Int) -> ReferenceFile? {
        let path = "\(SharedTestData.referenceDirectory)/megvii_0.5x_g\(groups).json"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(ReferenceFile.self, from: data)
    }

    static let available = SharedTestData.root != nil && reference(groups: 3) != nil && reference(groups: 8) != nil
    static let skip: Comment = "needs the shared photos and checkpoints and the NumPy reference outputs: run Scripts/make_reference_logits (Scripts/test does)"

    @Test(.enabled(if: available, skip), arguments: [3, 8])
    func realPhotosMatchTheNumPyReference(groups: Int) throws {
        let reference = try #require(Self.reference(groups: groups))
        let checkpoint = try #require(SharedTestData.checkpoint(groups: groups))
        let classifier = try ImageClassifier(weights: try CheckpointConverter.convert(checkpointAt: checkpoint))
        #expect(reference.images.count == 50)
        var worst = 0.0
        for image in reference.images {
            // The path `classify` takes: only the pixels the crop reads are decoded, within the memory budget.
            var input = [Float](repeating: 0, count: Preprocessor.tensorCount)
            _ = try input.withUnsafeMutableBufferPointer { try classifier.writeInput(forImageAt: image.path, into: $0) }
            let logits = try classifier.logits(forInput: input).map(Double.init)
            let scale = image.logits.map(abs).max() ?? 1
            let error = zip(logits, image.logits).map { abs($0 - $1) }.max()! / scale
            worst = max(worst, error)
            #expect(error < 1e-5, "\(image.path): logits differ by \(error) relative")
            let top = logits.indices.max { logits[$0] < logits[$1] }
            let referenceTop = image.logits.indices.max { image.logits[$0] < image.logits[$1] }
            #expect(top == referenceTop, "\(image.path): top-1 \(top!) vs reference \(referenceTop!)")
        }
        print("g=\(groups): 50 photos, worst relative logit difference \(worst)")
    }

    @Test(.enabled(if: SharedTestData.root != nil, Comment(rawValue: SharedTestData.skipMessage)))
    func accuracyOnTheSamplePhotosIsPlausible() throws {
        // File names start with the class's WordNet id; Megvii claims 57.3% top-1 on ImageNet val, so 50
        // photos should land far above chance (0.1%). A convention error (RGB, paper shuffle) gives ~0-40%.
        let classifier = try ImageClassifier(weights: try CheckpointConverter.convert(checkpointAt: try #require(SharedTestData.checkpoint(groups: 3))))
        var correct = 0
        for path in SharedTestData.photos {
            let wnid = String(URL(fileURLWithPath: path).lastPathComponent.prefix(9))
            let top = try classifier.classify(imageAt: path, topK: 1)[0]
            if ImageNetClasses.wordNetIDs[top.index] == wnid { correct += 1 }
        }
        #expect(correct >= 25, "top-1 \(correct)/50")
    }
}
