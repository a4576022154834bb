import Foundation
import ShuffleNetEngine

/// The metadata a file made by `shufflenet train` adds (Weights/README.md, "Trained classifiers"): the user's
/// class names and how the new classifier was trained.
public enum TrainedHeadMetadata {
    /// `labels` is `custom` for a file whose class names are in `class_names`.
    public static let customLabels = "custom"
    /// A JSON array of `num_classes` strings, in the classifier's row order.
    public static let classNamesKey = "class_names"
    /// A JSON object describing the training run (`HeadTrainer.Report`, without the per-photo lists).
    public static let trainingKey = "head_training"

    /// The class names the metadata gives: ImageNet's for `labels: imagenet-1k` with 1000 classes, the
    /// `class_names` for `labels: custom` (checked: a JSON array of exactly `classes` strings), else `class N`.
    public static func labels(metadata: [String: String], classes: Int, source: String) throws(ClassifierError) -> [String] {
        switch metadata[ShuffleNetWeights.MetadataKey.labels] {
        case "imagenet-1k" where classes == ImageNetClasses.names.count:
            return ImageNetClasses.names
        case customLabels:
            guard let text = metadata[classNamesKey] else {
                throw .unsupportedWeights(path: source, "metadata labels is \"custom\" but \"\(classNamesKey)\" is missing")
            }
            guard let names = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else {
                throw .unsupportedWeights(path: source, "metadata \"\(classNamesKey)\" is not a JSON array of strings")
            }
            guard names.count == classes else {
                throw .unsupportedWeights(path: source, "metadata \"\(classNamesKey)\" has \(names.count) names for \(classes) classes")
            }
            return names
        default:
            return (0..<classes).map { "class \($0)" }
        }
    }

    /// Encodes class names for `class_names`.
    public static func encode(classNames: [String]) -> String {
        "[" + classNames.map(jsonStringLiteral).joined(separator: ",") + "]"
    }
}
