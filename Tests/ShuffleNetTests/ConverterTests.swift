import Foundation
import SharedTestData
import ShuffleNet
import ShuffleNetEngine
import Testing

@Suite struct ConverterTests {
    static let skip = Comment(rawValue: SharedTestData.skipMessage)

    @Test(.enabled(if: SharedTestData.root != nil, skip))
    func megviiCheckpointsConvertToTheirPublishedShapes() throws {
        // Megvii's network.py: 0.5x g3 is conv1 12, stages 120/240/480; 0.5x g8 is 16, 192/384/768.
        let expected: [Int: (Int, [Int])] = [3: (12, [120, 240, 480]), 8: (16, [192, 384, 768])]
        for (groups, (stem, stages)) in expected {
            let weights = try CheckpointConverter.convert(checkpointAt: try #require(SharedTestData.checkpoint(groups: groups)))
            let c = weights.configuration
            #expect(c.groups == groups && c.scale == 0.5 && c.stemChannels == stem && c.stageChannels == stages)
            #expect(c.numClasses == 1000 && !c.classifierHasBias && c.shuffle == .megvii)
            #expect(weights.metadata["preprocessing"] == "megvii" && weights.metadata["labels"] == "imagenet-1k")
            // Through the file format and back, nothing changes.
            let bytes = weights.safeTensors().serialized()
            let reloaded = try ShuffleNetWeights(file: try SafeTensorsFile(bytes: bytes, path: "mem"))
            #expect(reloaded.tensors == weights.tensors && reloaded.configuration == c)
        }
    }

    @Test func notACheckpointGivesAClearError() throws {
        let path = NSTemporaryDirectory() + "not-a-checkpoint-\(getpid()).pth"
        try Data("hello".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try CheckpointConverter.convert(checkpointAt: path)
        } throws: { error in
            "\(error)".hasPrefix(path + ": cannot read checkpoint")
        }
        #expect(throws: WeightsError.self) { try CheckpointConverter.convert(checkpointAt: "/nonexistent.pth") }
    }
}
