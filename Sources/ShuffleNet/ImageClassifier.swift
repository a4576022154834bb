import Foundation
import ShuffleNetEngine
import ShuffleNetImage

/// One of the top-k answers for an image.
public struct Prediction: Sendable, Equatable, Codable {
    public let index: Int
    public let label: String
    public let probability: Double
}

/// The embeddable classifier: weights + matching preprocessing + labels, ready to classify files or
/// decoded images. Loading is done once; each `classify` reuses the planned workspace (calls are
/// serialised by a lock, so one instance may be shared; use one instance per thread for parallelism).
public final class ImageClassifier: @unchecked Sendable {
    public let weights: ShuffleNetWeights
    public let model: ShuffleNetModel
    public let preprocessor: Preprocessor
    public let labels: [String]
    private let workspace: Workspace
    private let lock = NSLock()

    public convenience init(weightsAt path: String) throws(ClassifierError) {
        let weights: ShuffleNetWeights
        do {
            weights = try ShuffleNetWeights(contentsOf: path)
        } catch {
            throw .weights(error)
        }
        try self.init(weights: weights, source: path)
    }

    public init(weights: ShuffleNetWeights, source: String = "weights") throws(ClassifierError) {
        let styleName = weights.metadata[ShuffleNetWeights.MetadataKey.preprocessing] ?? ""
        guard let style = PreprocessingStyle(rawValue: styleName) else {
            throw .unsupportedWeights(path: source, "metadata preprocessing \"\(styleName)\" is not one of \(PreprocessingStyle.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.weights = weights
        model = ShuffleNetModel(weights: weights, inputSize: Preprocessor.cropSize)
        preprocessor = Preprocessor(style: style)
        workspace = model.makeWorkspace()
        let classes = weights.configuration.numClasses
        if weights.metadata[ShuffleNetWeights.MetadataKey.labels] == "imagenet-1k", classes == ImageNetClasses.names.count {
            labels = ImageNetClasses.names
        } else {
            labels = (0..<classes).map { "class \($0)" }
        }
    }

    /// Decodes the file (JPEG or PNG, by content) and classifies it.
    public func classify(imageAt path: String, topK: Int = 5) throws(ClassifierError) -> [Prediction] {
        let image: RGBImage
        do {
            image = try ImageDecoder.decode(contentsOf: path)
        } catch {
            throw .image(error)
        }
        return classify(image, topK: topK)
    }

    public func classify(_ image: RGBImage, topK: Int = 5) -> [Prediction] {
        Self.topPredictions(logits: logits(for: image), labels: labels, k: topK)
    }

    /// Raw network outputs for a decoded image, preprocessed as the weights expect.
    public func logits(for image: RGBImage) -> [Float] {
        logits(forInput: preprocessor.tensor(from: image))
    }

    /// Raw network outputs for an already preprocessed `3 x 224 x 224` input.
    public func logits(forInput input: [Float]) -> [Float] {
        lock.lock()
        defer { lock.unlock() }
        return model.logits(for: input, workspace: workspace)
    }

    /// Softmax over all classes (in Double, after subtracting the maximum, so it cannot overflow), then the
    /// `k` most probable, ties broken by the lower index.
    public static func topPredictions(logits: [Float], labels: [String], k: Int) -> [Prediction] {
        guard let maxLogit = logits.max() else { return [] }
        let exps = logits.map { Foundation.exp(Double($0 - maxLogit)) }
        let total = exps.reduce(0, +)
        let order = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        return order.prefix(max(0, k)).map { i in
            Prediction(index: i, label: i < labels.count ? labels[i] : "class \(i)", probability: exps[i] / total)
        }
    }
}
