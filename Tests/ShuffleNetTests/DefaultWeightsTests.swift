import Foundation
import SharedTestData
import ShuffleNet
import ShuffleNetEngine
import Testing

@Suite struct DefaultWeightsTests {
    static let skip = Comment(rawValue: SharedTestData.skipMessage)

    func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "shufflenet-default-weights-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test(.enabled(if: SharedTestData.root != nil, skip))
    func mirrorIsConvertedOnceThenCached() throws {
        let cache = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: cache) }
        let lines = LockedLines()
        let fetcher = CheckpointFetcher(mirrorDirectories: [try #require(SharedTestData.weightsDirectory)], cacheDirectory: cache,
                                        allowDownload: false, log: { lines.append($0) })
        let path = try DefaultWeights(fetcher: fetcher).resolve(.standard)
        #expect(path == cache + "/shufflenet-v1-0.5x-g3.safetensors")
        let weights = try ShuffleNetWeights(contentsOf: path)
        #expect(weights.configuration.groups == 3 && weights.metadata["source_sha256"] == PublishedWeights.standard.checkpoint.sha256)
        #expect(lines.all.contains { $0.hasPrefix("converting ") })
        // Second time: straight from the cache, nothing converted.
        lines.clear()
        #expect(try DefaultWeights(fetcher: fetcher).resolve(.standard) == path)
        #expect(lines.all.isEmpty)
        // A damaged cache file is noticed and made again.
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: path))
        #expect(try DefaultWeights(fetcher: fetcher).resolve(.standard) == path)
        #expect(lines.all.contains { $0.contains("unusable") })
        _ = try ShuffleNetWeights(contentsOf: path)
    }

    @Test func noMirrorAndNoDownloadIsAClearError() throws {
        let cache = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: cache) }
        let fetcher = CheckpointFetcher(mirrorDirectories: [cache], cacheDirectory: cache, allowDownload: false)
        #expect {
            try DefaultWeights(fetcher: fetcher).resolve(.standard)
        } throws: { error in
            "\(error)".contains("no weights") && "\(error)".contains(PublishedWeights.standard.checkpoint.fileName)
        }
    }
}

@Suite struct ClassifierInputErrorTests {
    func classifier() throws -> ImageClassifier {
        var weights = ShuffleNetWeights.random(configuration: try ShuffleNetConfiguration(scale: 0.25, groups: 2, numClasses: 10), seed: 1)
        weights = try ShuffleNetWeights(configuration: weights.configuration, tensors: weights.tensors,
                                        metadata: ["preprocessing": "megvii"])
        return try ImageClassifier(weights: weights)
    }

    @Test func badImagesNameTheFileAndTheProblem() throws {
        let classifier = try classifier()
        let directory = NSTemporaryDirectory() + "shufflenet-bad-inputs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sample = try Data(contentsOf: URL(fileURLWithPath: SharedTestData.packageRoot + "/Scripts/samples/chelsea-cat.jpg"))
        let cases: [(String, Data?, String)] = [
            ("missing.jpg", nil, "no such file"),
            ("notes.jpg", Data("just text\n".utf8), "not a jpeg or png"),
            ("truncated.jpg", sample.prefix(sample.count / 2), "truncated"),
            ("empty.png", Data(), "empty"),
        ]
        for (name, contents, fragment) in cases {
            let path = directory + "/" + name
            if let contents { try contents.write(to: URL(fileURLWithPath: path)) }
            #expect {
                try classifier.classify(imageAt: path)
            } throws: { error in
                let text = "\(error)"
                return text.hasPrefix(path + ": ") && text.lowercased().contains(fragment)
            }
        }
        // The classifier still works after the failures.
        #expect(try classifier.classify(imageAt: SharedTestData.packageRoot + "/Scripts/samples/chelsea-cat.jpg", topK: 3).count == 3)
    }

    @Test func weightsWithoutPreprocessingMetadataAreRefused() throws {
        let weights = ShuffleNetWeights.random(configuration: try ShuffleNetConfiguration(scale: 0.25, groups: 2, numClasses: 10))
        #expect(throws: ClassifierError.self) { try ImageClassifier(weights: weights, source: "w.safetensors") }
    }

    @Test func topPredictionsAreASoftmaxInOrder() {
        // Hand-computed: logits (0, ln 3, 0) give probabilities (0.2, 0.6, 0.2); ties keep the lower index first.
        let p = ImageClassifier.topPredictions(logits: [0, Float(log(3.0)), 0], labels: ["a", "b", "c"], k: 3)
        #expect(p.map(\.index) == [1, 0, 2] && p.map(\.label) == ["b", "a", "c"])
        #expect(abs(p[0].probability - 0.6) < 1e-6 && abs(p[1].probability - 0.2) < 1e-6)
    }
}

/// Collects log lines from the fetcher's `@Sendable` callback.
final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    func clear() { lock.lock(); lines.removeAll(); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
