import Foundation
import ShuffleNet
import ShuffleNetBatch
import ShuffleNetEngine

/// The network of a `NetworkPlan` as the rows of the paper's Table 1 (Zhang et al. 2018, "ShuffleNet"):
/// Layer, Output size, KSize, Stride, Repeat, Output channels; then parameters, multiply-adds and, when a
/// file was given, its metadata.
struct InspectReport {
    struct Row: Equatable {
        var layer: String
        var outputSize: Int?
        var kernel: Int?
        var stride: Int?
        var repeats: Int?
        var channels: Int?
    }

    struct WeightsInfo {
        let path: String
        let bytes: Int
        let tensors: Int
        /// `fp32` or `int8`.
        let precision: String
        let metadata: [String: String]
    }

    /// Table 1's "Complexity" row: MFLOPs (multiply-adds) at 1x for each g.
    static let paperMegaFLOPsAt1x: [Int: Int] = [1: 143, 2: 140, 3: 137, 4: 133, 8: 137]

    let plan: NetworkPlan
    let weights: WeightsInfo?

    /// Image, Conv1, MaxPool, then per stage its stride-2 unit and its repeated stride-1 units, GlobalPool, FC.
    var rows: [Row] {
        let c = plan.configuration
        var rows = [
            Row(layer: "Image", outputSize: plan.inputSize, channels: 3),
            Row(layer: "Conv1", outputSize: plan.stemOutputSize, kernel: 3, stride: 2, repeats: 1, channels: c.stemChannels),
            Row(layer: "MaxPool", outputSize: plan.poolOutputSize, kernel: 3, stride: 2),
        ]
        for stage in 2...4 {
            let units = plan.units.filter { $0.stage == stage }
            guard let first = units.first else { continue }
            rows.append(Row(layer: "Stage\(stage)", outputSize: first.outputSize, stride: first.stride, repeats: 1, channels: first.outputChannels))
            if units.count > 1 {
                rows.append(Row(layer: "", outputSize: units[1].outputSize, stride: units[1].stride, repeats: units.count - 1, channels: units[1].outputChannels))
            }
        }
        rows.append(Row(layer: "GlobalPool", outputSize: 1, kernel: plan.finalSize))
        rows.append(Row(layer: "FC", channels: c.numClasses))
        return rows
    }

    /// Multiply-adds of the convolutions alone. Table 1's complexity row leaves out the final fully connected
    /// layer: without it, all five 1x columns round to the paper's figures (with it, g = 2, 4, 8 come out 1M
    /// higher), whereas Megvii's README (38M for 0.5x g3) counts it.
    var convolutionMultiplyAdds: Int {
        plan.multiplyAdds - plan.finalChannels * plan.configuration.numClasses
    }

    /// The paper's figure for this configuration, when it has one (1x only).
    var paperMegaFLOPs: Int? {
        plan.configuration.scale == 1 && plan.inputSize == 224 ? Self.paperMegaFLOPsAt1x[plan.configuration.groups] : nil
    }

    func text() -> String {
        let c = plan.configuration
        var out = "\(c)\n\n"
        let header = ["Layer", "Output size", "KSize", "Stride", "Repeat", "Output channels"]
        let widths = [12, 13, 7, 8, 8, 0]
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { cell, width in cell.padding(toLength: max(width, cell.count + (width > 0 ? 1 : 0)), withPad: " ", startingAt: 0) }
                .joined().replacingOccurrences(of: " +$", with: "", options: .regularExpression) + "\n"
        }
        out += line(header)
        for r in rows {
            out += line([r.layer, r.outputSize.map { "\($0)x\($0)" } ?? "", r.kernel.map { "\($0)x\($0)" } ?? "",
                         r.stride.map(String.init) ?? "", r.repeats.map(String.init) ?? "", r.channels.map(String.init) ?? ""])
        }
        out += "\n"
        let paper = paperMegaFLOPs.map { " (paper, Table 1: \($0)M)" } ?? ""
        out += "Complexity   \(String(format: "%.1f", Double(plan.multiplyAdds) / 1e6))M multiply-adds per image (\(plan.multiplyAdds), \"FLOPs\" in the paper)\n"
        out += "             \(String(format: "%.1f", Double(convolutionMultiplyAdds) / 1e6))M without the FC layer, as Table 1 counts\(paper)\n"
        out += "Parameters   \(String(format: "%.3f", Double(plan.parameterCount) / 1e6))M (\(plan.parameterCount): convolutions, BatchNorm scale and shift, classifier)\n"
        if let weights {
            out += "\nWeights      \(weights.path) (\(weights.precision), \(weights.bytes) bytes, \(String(format: "%.2f", Double(weights.bytes) / 1e6)) MB, \(weights.tensors) tensors)\n"
            let keyWidth = (weights.metadata.keys.map(\.count).max() ?? 0) + 2
            for key in weights.metadata.keys.sorted() {
                out += "  \(key.padding(toLength: keyWidth, withPad: " ", startingAt: 0))\(weights.metadata[key] ?? "")\n"
            }
            out += InspectTrainedHead.lines(metadata: weights.metadata)
        }
        return out
    }

    func json() -> String {
        let c = plan.configuration
        func value(_ v: Int?) -> String { v.map(String.init) ?? "null" }
        let layers = rows.map { r in
            "{\"layer\":\(BatchTextEscaping.json(r.layer)),\"output_size\":\(value(r.outputSize)),\"kernel\":\(value(r.kernel)),\"stride\":\(value(r.stride)),\"repeat\":\(value(r.repeats)),\"channels\":\(value(r.channels))}"
        }
        var fields = [
            "\"scale\":\(c.scale)", "\"groups\":\(c.groups)", "\"stem_channels\":\(c.stemChannels)",
            "\"stage_channels\":[\(c.stageChannels.map(String.init).joined(separator: ","))]",
            "\"num_classes\":\(c.numClasses)", "\"channel_shuffle\":\(BatchTextEscaping.json(c.shuffle.rawValue))",
            "\"input_size\":\(plan.inputSize)", "\"layers\":[\(layers.joined(separator: ","))]",
            "\"parameters\":\(plan.parameterCount)", "\"multiply_adds\":\(plan.multiplyAdds)",
            "\"multiply_adds_without_fc\":\(convolutionMultiplyAdds)",
            "\"paper_mflops\":\(value(paperMegaFLOPs))",
        ]
        if let weights {
            let metadata = weights.metadata.keys.sorted().map { "\(BatchTextEscaping.json($0)):\(BatchTextEscaping.json(weights.metadata[$0] ?? ""))" }
            fields.append("\"weights\":{\"path\":\(BatchTextEscaping.json(weights.path)),\"precision\":\(BatchTextEscaping.json(weights.precision)),\"bytes\":\(weights.bytes),\"tensors\":\(weights.tensors),\"metadata\":{\(metadata.joined(separator: ","))}}")
        }
        return "{\(fields.joined(separator: ","))}\n"
    }
}
