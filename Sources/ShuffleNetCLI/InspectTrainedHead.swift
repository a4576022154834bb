import Foundation
import ShuffleNet

/// The lines `inspect` adds for a file made by `shufflenet train`: the class names and how the head was
/// trained (from the `class_names` and `head_training` metadata, Weights/README.md).
enum InspectTrainedHead {
    static func lines(metadata: [String: String]) -> String {
        guard metadata["labels"] == TrainedHeadMetadata.customLabels else { return "" }
        var out = "\nClasses      \(decodedNames(metadata) ?? "(class_names missing or malformed)")\n"
        guard let text = metadata[TrainedHeadMetadata.trainingKey],
              let info = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return out }
        func number(_ key: String) -> Double? { (info[key] as? NSNumber)?.doubleValue }
        func count(_ key: String) -> Int { (info[key] as? [NSNumber])?.reduce(0) { $0 + $1.intValue } ?? 0 }
        let basis = info["basis"] as? String ?? "?"
        let penalty = (info["penalty"] as? String ?? "?").uppercased()
        out += "Trained head softmax regression, \(penalty) penalty, C \(number("chosen_c").map { String(format: "%g", $0) } ?? "?") (by \(info["folds"] ?? "?")-fold cross-validation), fitted on \(basis == "pooled" ? "the pooled features" : "the backbone's class scores")\n"
        out += "             \(count("training_photos")) training photos, views: \(info["views_description"] as? String ?? "?"), seed \(info["seed"] ?? "?")\n"
        if let accuracy = number("validation_accuracy") {
            out += String(format: "             validation accuracy %.2f%% on %d photos (%@)\n", 100 * accuracy, count("validation_photos"),
                          info["validation_source"] as? String ?? "")
        }
        if (info["refit_on_all_photos"] as? Bool) == true { out += "             then fitted again on all photos\n" }
        if let backbone = info["backbone"] as? String, !backbone.isEmpty { out += "             backbone: \(backbone)\n" }
        return out
    }

    private static func decodedNames(_ metadata: [String: String]) -> String? {
        guard let text = metadata[TrainedHeadMetadata.classNamesKey],
              let names = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else { return nil }
        return names.joined(separator: ", ")
    }
}
