import Foundation
import ShuffleNetEngine
import Testing

/// `shufflenet inspect` against the paper: Table 1's layout and numbers (Zhang et al. 2018, Table 1).
@Suite(.enabled(if: CLITestSupport.binary != nil, CLITestSupport.skip))
struct InspectTests {
    static func inspect(_ arguments: [String]) throws -> [String: Any] {
        let run = try CLITestSupport.run(["inspect", "--format", "json"] + arguments, in: NSTemporaryDirectory())
        #expect(run.status == 0)
        return try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
    }

    /// Table 1, "Complexity (MFLOPs)" row, 1x: the convolutions' multiply-adds (the paper leaves the FC layer
    /// out: with it, g = 2, 4, 8 would be 141, 134, 138), and the total within 1.5%.
    @Test(arguments: [(1, 143), (2, 140), (3, 137), (4, 133), (8, 137)])
    func complexityMatchesThePaper(groups: Int, megaFLOPs: Int) throws {
        let report = try Self.inspect(["--scale", "1", "--groups", "\(groups)"])
        let convolutions = try #require(report["multiply_adds_without_fc"] as? Int)
        #expect(Int((Double(convolutions) / 1e6).rounded()) == megaFLOPs)
        let total = try #require(report["multiply_adds"] as? Int)
        #expect(abs(Double(total) / 1e6 - Double(megaFLOPs)) / Double(megaFLOPs) < 0.015)
        #expect(report["paper_mflops"] as? Int == megaFLOPs)
    }

    /// Table 1 rows for g = 3, typed in from the paper: output sizes, kernels, strides, repeats, channels.
    @Test func layerTableFollowsTableOne() throws {
        let layers = try #require(try Self.inspect(["--groups", "3"])["layers"] as? [[String: Any]])
        func row(_ l: [String: Any]) -> String {
            ["layer", "output_size", "kernel", "stride", "repeat", "channels"].map { (l[$0] as? Int).map(String.init) ?? (l[$0] as? String) ?? "-" }.joined(separator: " ")
        }
        #expect(layers.map(row) == [
            "Image 224 - - - 3", "Conv1 112 3 2 1 24", "MaxPool 56 3 2 - -",
            "Stage2 28 - 2 1 240", " 28 - 1 3 240", "Stage3 14 - 2 1 480", " 14 - 1 7 480",
            "Stage4 7 - 2 1 960", " 7 - 1 3 960", "GlobalPool 1 7 - - -", "FC - - - - 1000",
        ])
        let text = try CLITestSupport.run(["inspect", "--groups", "8"], in: NSTemporaryDirectory()).text
        #expect(text.contains("Layer       Output size  KSize  Stride  Repeat  Output channels\n"))
        #expect(text.contains("Stage2      28x28               2       1       384\n            28x28               1       3       384\n"))
        #expect(text.contains("paper, Table 1: 137M"))
    }

    /// Parameters: the sum of the trainable tensors' sizes (BatchNorm running statistics excluded), counted
    /// from the weight shapes rather than from the plan's arithmetic; and the weights file's metadata.
    @Test func parametersAndWeightsMetadata() throws {
        let tmp = try BatchTestSupport.temporaryDirectory("inspect")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let report = try Self.inspect(["--weights", try BatchTestSupport.randomWeightsFile(in: tmp)])
        let configuration = try ShuffleNetConfiguration(scale: 0.5, groups: 3)
        let tensors = ShuffleNetWeights.expectedTensors(for: NetworkPlan(configuration: configuration))
        let trainable = tensors
            .filter { !$0.name.hasSuffix("running_mean") && !$0.name.hasSuffix("running_var") }
            .map { $0.shape.reduce(1, *) }.reduce(0, +)
        #expect(report["parameters"] as? Int == trainable)
        #expect(Int((Double(try #require(report["multiply_adds"] as? Int)) / 1e6).rounded()) == 38)  // Megvii's README: 38M
        let weights = try #require(report["weights"] as? [String: Any])
        let metadata = try #require(weights["metadata"] as? [String: String])
        #expect(metadata["groups"] == "3" && metadata["scale"] == "0.5" && metadata["preprocessing"] == "megvii")
        #expect(weights["tensors"] as? Int == tensors.count)
        let missing = try CLITestSupport.run(["inspect", "--weights", tmp + "/none.safetensors"], in: tmp)
        #expect(missing.status == 1 && missing.stderr.contains("none.safetensors"))
    }
}
