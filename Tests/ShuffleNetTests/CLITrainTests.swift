import Foundation
import ShuffleNet
import ShuffleNetBatch
import Testing

/// `shufflenet train` and `classify --weights MODEL` through the executable: the report parses, the file
/// loads, and every output format of `classify` shows the user's labels.
@Suite struct CLITrainTests {
    @Test(.enabled(if: CLITestSupport.binary != nil, CLITestSupport.skip))
    func trainThenClassifyShowsTheUsersLabels() throws {
        let root = try BatchTestSupport.temporaryDirectory("cli-train")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try HeadTrainerTests.makeTree(root + "/photos", classes: ["red": 5, "blue": 5])
        let weights = try BatchTestSupport.randomWeightsFile(in: root)
        let train = try CLITestSupport.run(["train", "photos", "--weights", weights, "-o", "m.safetensors", "--format", "json",
                                            "--folds", "2", "--c-grid", "0.1,1", "--validation", "0.4"], in: root)
        #expect(train.status == 0, "\(train.stderr)")
        let report = try #require(JSONSerialization.jsonObject(with: train.stdout) as? [String: Any])
        #expect(report["labels"] as? [String] == ["blue", "red"])
        #expect(report["validation_photos"] as? [Int] == [2, 2])
        #expect((report["confusion"] as? [[Int]])?.flatMap { $0 }.reduce(0, +) == 4)
        let image = root + "/photos/red/sub/red0.png"
        for format in ["text", "json", "jsonl", "csv"] {
            let run = try CLITestSupport.run(["classify", "--weights", "m.safetensors", "--format", format, "--top-k", "2", image], in: root)
            #expect(run.status == 0, "\(format): \(run.stderr)")
            #expect(run.text.contains("red") && run.text.contains("blue"), "\(format): \(run.text)")
            #expect(!run.text.contains("class 0"), "\(format): \(run.text)")
        }
        let inspect = try CLITestSupport.run(["inspect", "--weights", "m.safetensors"], in: root)
        #expect(inspect.text.contains("Classes      blue, red"), "\(inspect.text)")
        // A single class is refused with exit code 1 and a message naming it.
        try FileManager.default.removeItem(atPath: root + "/photos/blue")
        let single = try CLITestSupport.run(["train", "photos", "--weights", weights, "-o", "x.safetensors"], in: root)
        #expect(single.status == 1)
        #expect(single.stderr.contains("only one class (\"red\")"), "\(single.stderr)")
    }
}
