import Foundation
import ShuffleNetEngine
import TorchCheckpoint

/// Turns a PyTorch ShuffleNet v1 checkpoint (Megvii's `network.py` layout, either `torch.save` format) into
/// `ShuffleNetWeights`: reads it without Python, works out the configuration from the tensor shapes, and
/// checks every tensor against the plan for that configuration.
public enum CheckpointConverter {
    /// Reads the checkpoint at `path` and returns its weights, checked against the configuration its shapes describe.
    /// `sourceSHA256` is recorded in the metadata (`source_sha256`); `shuffle` and `preprocessing` say how the
    /// weights were trained (Megvii's checkpoints: `.megvii` and `"megvii"`).
    /// - Throws: `WeightsError` when the file cannot be read or is not a ShuffleNet v1 checkpoint in Megvii's layout.
    public static func convert(checkpointAt path: String, sourceSHA256: String? = nil,
                               shuffle: ChannelShuffleConvention = .megvii,
                               preprocessing: String = "megvii") throws(WeightsError) -> ShuffleNetWeights {
        let all: [String: TorchTensor]
        do {
            all = try TorchCheckpoint.load(contentsOf: path)
        } catch {
            throw WeightsError(path: path, "cannot read checkpoint: \(error.problem)")
        }
        // BatchNorm's step counters are training state, not weights.
        let state = TorchCheckpoint.stateDict(all).filter { !$0.key.hasSuffix("num_batches_tracked") }
        func shape(_ name: String) throws(WeightsError) -> [Int] {
            guard let tensor = state[name] else {
                throw WeightsError(path: path, "no tensor \"\(name)\": not a ShuffleNet v1 checkpoint in Megvii's layout (found \(state.count) tensors, e.g. \(state.keys.sorted().prefix(3).joined(separator: ", ")))")
            }
            return tensor.shape
        }
        let configuration = try inferConfiguration(shape: shape, path: path, shuffle: shuffle,
                                                   hasBias: state["classifier.0.bias"] != nil)
        var tensors: [String: [Float]] = [:]
        for (name, expectedShape) in ShuffleNetWeights.expectedTensors(for: NetworkPlan(configuration: configuration)) {
            guard let tensor = state[name] else {
                throw WeightsError(path: path, "missing tensor \"\(name)\" needed by \(configuration)")
            }
            guard tensor.shape == expectedShape else {
                throw WeightsError(path: path, "tensor \"\(name)\" has shape \(tensor.shape), expected \(expectedShape) for \(configuration)")
            }
            do {
                tensors[name] = try tensor.floats()
            } catch {
                throw WeightsError(path: path, "tensor \"\(name)\": \(error.problem)")
            }
        }
        var metadata = [
            ShuffleNetWeights.MetadataKey.preprocessing: preprocessing,
            ShuffleNetWeights.MetadataKey.labels: configuration.numClasses == 1000 ? "imagenet-1k" : "none",
            "source": URL(fileURLWithPath: path).lastPathComponent,
        ]
        if let sourceSHA256 { metadata["source_sha256"] = sourceSHA256 }
        return try ShuffleNetWeights(configuration: configuration, tensors: tensors, metadata: metadata, source: path)
    }

    /// Groups, widths and scale from the shapes: the stem's outputs, each stage's first (stride-2) unit's
    /// branch plus its input, and the second unit's grouped 1x1 conv (input channels / groups).
    static func inferConfiguration(shape: (String) throws(WeightsError) -> [Int], path: String,
                                   shuffle: ChannelShuffleConvention, hasBias: Bool) throws(WeightsError) -> ShuffleNetConfiguration {
        let stem = try shape("first_conv.0.weight")[0]
        var stages: [Int] = []
        var channels = stem
        var unit = 0
        for repeats in ShuffleNetConfiguration.stageRepeats {
            channels += try shape("features.\(unit).branch_main_2.0.weight")[0]
            stages.append(channels)
            unit += repeats
        }
        let perGroup = try shape("features.1.branch_main_1.0.weight")[1]
        guard perGroup > 0, stages[0] % perGroup == 0 else {
            throw WeightsError(path: path, "cannot work out the groups: features.1 takes \(perGroup) of \(stages[0]) channels per group")
        }
        let groups = stages[0] / perGroup
        let classes = try shape("classifier.0.weight")[0]
        // The scale is a label: the published size whose widths these are, else the ratio to Table 1's 1x.
        var scale = Double(stages[0]) / Double(ShuffleNetConfiguration.stage2ChannelsAt1x[groups] ?? stages[0])
        for candidate in [0.25, 0.5, 0.75, 1, 1.5, 2, 3] {
            if let c = try? ShuffleNetConfiguration(scale: candidate, groups: groups), c.stageChannels == stages, c.stemChannels == stem {
                scale = candidate
            }
        }
        do {
            return try ShuffleNetConfiguration(scale: scale, groups: groups, stemChannels: stem, stageChannels: stages,
                                               numClasses: classes, shuffle: shuffle, classifierHasBias: hasBias)
        } catch {
            throw WeightsError(path: path, "tensor shapes describe no valid ShuffleNet v1: \(error)")
        }
    }
}

