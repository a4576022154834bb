import Foundation
import SharedTestData
import ShuffleNet
import Testing

/// The int8 flow as a user runs it: `quantize` (with `--evaluate`) on Megvii's 0.5x g3, then `classify`, `bench`
/// and `inspect` on the int8 file with no extra flag, and the refusals (`bench --precision fp32`, `train`).
@Suite struct CLIInt8Tests {
    static let available = SharedTestData.root != nil && CLITestSupport.binary != nil
    static let skip: Comment = "needs the shared photos and checkpoints and the shufflenet executable"

    @Test(.enabled(if: available, skip))
    func quantizeThenClassifyBenchAndInspectTheInt8File() throws {
        let directory = NSTemporaryDirectory() + "cli-int8-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let weights = try CheckpointConverter.convert(checkpointAt: try #require(SharedTestData.checkpoint(groups: 3)))
        try weights.safeTensors().write(to: directory + "/g3.safetensors")
        let photos = Array(SharedTestData.photos.prefix(6))
        let calibration = directory + "/calibration"
        try FileManager.default.createDirectory(atPath: calibration, withIntermediateDirectories: true)
        for photo in photos.prefix(4) {
            try FileManager.default.copyItem(atPath: photo, toPath: calibration + "/" + URL(fileURLWithPath: photo).lastPathComponent)
        }

        let quantize = try CLITestSupport.run(["quantize", "--weights", "g3.safetensors", "--calibration", "calibration",
                                               "-o", "g3-int8.safetensors", "--evaluate", photos[4], "--evaluate", photos[5]], in: directory)
        #expect(quantize.status == 0, "\(quantize.stderr)")
        #expect(quantize.stderr.contains("calibrated on 4 of 4 photos"), "\(quantize.stderr)")
        #expect(quantize.stderr.contains("MB of it fp16 recheck weights"), "\(quantize.stderr)")
        #expect(quantize.text.contains("int8 vs fp32 top-1:") && quantize.text.contains("of 2 photos agree"), "\(quantize.text)")
        guard case .int8 = try NetworkWeights(contentsOf: directory + "/g3-int8.safetensors") else {
            Issue.record("quantize did not write an int8 file")
            return
        }

        // classify: the same rows as fp32's for these photos' shapes (top-1 may differ; every photo gets predictions).
        let classify = try CLITestSupport.run(["classify", "--weights", "g3-int8.safetensors", "--format", "jsonl", "--top-k", "3"] + photos, in: directory)
        #expect(classify.status == 0, "\(classify.stderr)")
        #expect(classify.lines.count == photos.count)
        for line in classify.lines {
            let row = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect((row["predictions"] as? [[String: Any]])?.count == 3, "\(line)")
        }
        // The summary says how many near ties were rechecked in fp32, or that none can be; a bad margin is a usage error.
        #expect(classify.stderr.contains("near tie") && classify.stderr.contains("rechecked in fp32"), "\(classify.stderr)")
        let unchecked = try CLITestSupport.run(["classify", "--weights", "g3-int8.safetensors", "--int8-recheck", "0"] + photos, in: directory)
        #expect(unchecked.status == 0 && unchecked.stderr.contains("int8, no recheck"), "\(unchecked.stderr)")
        let negative = try CLITestSupport.run(["classify", "--weights", "g3-int8.safetensors", "--int8-recheck=-1", photos[0]], in: directory)
        #expect(negative.status == 64 && negative.stderr.contains("--int8-recheck must be a number of at least 0"), "\(negative.stderr)")

        let bench = try CLITestSupport.run(["bench", "--weights", "g3-int8.safetensors", "--iterations", "3", "--warmup", "1", "--format", "json"], in: directory)
        #expect(bench.status == 0, "\(bench.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: bench.stdout) as? [String: Any])
        #expect(report["precision"] as? String == "int8")
        let random = try CLITestSupport.run(["bench", "--scale", "0.25", "--groups", "2", "--precision", "int8", "--iterations", "2", "--format", "json"], in: directory)
        #expect(random.status == 0, "\(random.stderr)")
        #expect(random.text.contains("\"precision\":\"int8\""))

        let inspect = try CLITestSupport.run(["inspect", "--weights", "g3-int8.safetensors", "--format", "json"], in: directory)
        #expect(inspect.status == 0 && inspect.text.contains("\"precision\":\"int8\""), "\(inspect.stderr)")

        let fp32Bench = try CLITestSupport.run(["bench", "--weights", "g3-int8.safetensors", "--precision", "fp32"], in: directory)
        #expect(fp32Bench.status != 0 && fp32Bench.stderr.contains("int8"), "\(fp32Bench.stderr)")
        // train writes fp32 weights: an int8 backbone is refused by name, after the classes are found.
        for (label, pair) in [("a", photos[0..<2]), ("b", photos[2..<4])] {
            let folder = directory + "/train/" + label
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for photo in pair { try FileManager.default.copyItem(atPath: photo, toPath: folder + "/" + URL(fileURLWithPath: photo).lastPathComponent) }
        }
        let train = try CLITestSupport.run(["train", "train", "--weights", "g3-int8.safetensors", "-o", "head.safetensors"], in: directory)
        #expect(train.status != 0 && train.stderr.contains("is int8; train on fp32 weights"), "\(train.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/head.safetensors"))
    }
}
