import ShuffleNetEngine
import ShuffleNetImage

/// Everything that can stop a classification, with the file and the reason in its description.
public enum ClassifierError: Error, CustomStringConvertible, Sendable {
    /// The weights file is missing, damaged or describes something else.
    case weights(WeightsError)
    /// No weights could be obtained (no mirror, download failed or disabled, cache not writable).
    case weightsUnavailable(String)
    /// The weights' metadata asks for something this build does not support.
    case unsupportedWeights(path: String, String)
    /// One image could not be read or decoded; the others are unaffected.
    case image(ImageDecodingError)
    /// A decoded image could not be turned into the network input (e.g. absurd dimensions).
    case preprocessing(path: String, PreprocessingError)
    /// An array or buffer handed to the classifier has the wrong size for the model.
    case invalidInput(ModelInputError)

    public var description: String {
        switch self {
        case .weights(let error): "\(error)"
        case .weightsUnavailable(let reason): "no weights: \(reason)"
        case .unsupportedWeights(let path, let reason): "\(path): \(reason)"
        case .image(let error): "\(error)"
        case .preprocessing(let path, let error): "\(path): \(error)"
        case .invalidInput(let error): "\(error)"
        }
    }
}
