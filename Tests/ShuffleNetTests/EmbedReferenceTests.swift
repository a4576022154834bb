import Foundation
import SharedTestData
import ShuffleNet
import ShuffleNetEngine
import Testing

/// `embed` and `FeatureExtractor` against the independent NumPy forward pass (Scripts/reference_forward.py
/// --features, run by Scripts/make_reference_logits): the pooled features of the 50 shared ImageNet photos.
@Suite struct EmbedReferenceTests {
    struct ReferenceFile: Decodable {
        struct Image: Decodable { let path: String; let features: [Double]? }
        let images: [Image]
    }

    static let reference: ReferenceFile? = {
        let path = "\(SharedTestData.referenceDirectory)/megvii_0.5x_g3.json"
        guard let data = FileManager.default.contents(atPath: path),
              let file = try? JSONDecoder().decode(ReferenceFile.self, from: data),
              file.images.allSatisfy({ $0.features != nil }) else { return nil }
        return file
    }()

    static let available = SharedTestData.root != nil && reference != nil
    static let skip: Comment = "needs the shared photos and checkpoints and the NumPy reference features: run Scripts/make_reference_logits"

    static func relativeError(_ a: [Double], _ b: [Double]) -> Double {
        let scale = b.map(abs).max() ?? 1
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    @Test(.enabled(if: available, skip))
    func featureExtractorMatchesTheNumPyReference() throws {
        let reference = try #require(Self.reference)
        let weights = try CheckpointConverter.convert(checkpointAt: try #require(SharedTestData.checkpoint(groups: 3)))
        let extractor = FeatureExtractor(classifier: try ImageClassifier(weights: weights))
        #expect(extractor.dimension == 480)
        let extracted = extractor.extract(paths: reference.images.map(\.path), threads: 2)
        var worst = 0.0
        for (image, result) in zip(reference.images, extracted) {
            let features = try result.get().views[0].map(Double.init)
            let error = Self.relativeError(features, image.features!)
            worst = max(worst, error)
            #expect(features.count == 480)
            #expect(error < 1e-4, "\(image.path): features differ by \(error) relative")
        }
        print("embed: 50 photos, worst relative feature difference \(worst)")
    }

    @Test(.enabled(if: available && CLITestSupport.binary != nil, skip))
    func embedCommandWritesTheReferenceFeatures() throws {
        let reference = try #require(Self.reference)
        let directory = try BatchTestSupport.temporaryDirectory("embed")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let weights = try CheckpointConverter.convert(checkpointAt: try #require(SharedTestData.checkpoint(groups: 3)))
        try weights.safeTensors().write(to: directory + "/g3.safetensors")
        let paths = reference.images.prefix(6).map(\.path)
        let run = try CLITestSupport.run(["embed", "--weights", "g3.safetensors", "--format", "jsonl", "-q"] + paths + ["missing.jpg"], in: directory)
        #expect(run.status == 2, "one input is missing: \(run.stderr)")
        let rows = try run.lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(rows.count == 7)
        for (row, image) in zip(rows, reference.images.prefix(6)) {
            #expect(row["path"] as? String == image.path)
            let embedding = try #require(row["embedding"] as? [Double])
            #expect(Self.relativeError(embedding, image.features!) < 1e-4)
        }
        #expect(rows.last?["path"] as? String == "missing.jpg")
        #expect(rows.last?["error"] is String)
        // npy + paths file, normalised: row for row, unit length, same direction as the reference.
        let npy = try CLITestSupport.run(["embed", "--weights", "g3.safetensors", "--format", "npy", "-o", "e.npy", "--normalize", "-q"] + paths, in: directory)
        #expect(npy.status == 0, "\(npy.stderr)")
        let listed = try String(contentsOfFile: directory + "/e.paths.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(listed == paths)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/e.npy")))
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect(String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self).contains("'shape': (6, 480)"))
        let first = (0..<480).map { i -> Double in
            let o = 10 + headerLength + 4 * i
            return Double(Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24))
        }
        let referenceFirst: [Double] = reference.images[0].features!
        let norm: Double = referenceFirst.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
        let length: Double = first.reduce(0.0) { $0 + $1 * $1 }
        #expect(abs(length - 1) < 1e-5)
        #expect(Self.relativeError(first, referenceFirst.map { $0 / norm }) < 1e-4)
        // A stdin list with empty lines and a missing file: rows only for the readable ones, the header's row
        // count rewritten at the end to match, the empty lines counted in the summary.
        let list = Data("\(paths[0])\n\nmissing.jpg\n\n\(paths[1])\n".utf8)
        let listed2 = try CLITestSupport.run(["embed", "--weights", "g3.safetensors", "--format", "npy", "-o", "l.npy", "--progress", "never", "-"],
                                             stdin: list, in: directory)
        #expect(listed2.status == 2, "\(listed2.stderr)")
        #expect(listed2.stderr.contains("3 files, 1 error, 2 empty lines skipped"), "\(listed2.stderr)")
        let small = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/l.npy")))
        let smallHeader = Int(small[8]) | Int(small[9]) << 8
        #expect(String(decoding: small[10..<(10 + smallHeader)], as: UTF8.self).contains("'shape': (2, 480)"))
        #expect(small.count == 10 + smallHeader + 2 * 480 * 4)
        #expect(try String(contentsOfFile: directory + "/l.paths.txt", encoding: .utf8) == "\(paths[0])\n\(paths[1])\n")
    }
}
