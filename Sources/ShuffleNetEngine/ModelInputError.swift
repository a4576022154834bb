/// Why a model could not be planned or run with the sizes and buffers it was given.
public enum ModelInputError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input size is outside `ShuffleNetModel.inputSizes`.
    case inputSize(Int, allowed: ClosedRange<Int>)
    /// The input does not hold `3 * inputSize * inputSize` floats.
    case inputCount(expected: Int, actual: Int)
    /// The output buffer does not hold one float per class.
    case outputCount(expected: Int, actual: Int)
    /// The workspace was made by a model planned differently, so its buffers do not fit.
    case workspaceMismatch(workspaceInputSize: Int, workspaceConfiguration: String,
                           modelInputSize: Int, modelConfiguration: String)
    /// The int8 weights hold numbers the kernels cannot compute with exactly (checked when packing them).
    case unpackableWeights(String)

    public var description: String {
        switch self {
        case .inputSize(let size, let allowed):
            "input size \(size) is not in \(allowed.lowerBound)...\(allowed.upperBound)"
        case .inputCount(let expected, let actual):
            "the input holds \(actual) floats, the model needs \(expected) (3 x size x size)"
        case .outputCount(let expected, let actual):
            "the logits buffer holds \(actual) floats, the model has \(expected) classes"
        case .workspaceMismatch(let workspaceSize, let workspaceConfiguration, let modelSize, let modelConfiguration):
            "the workspace was made for \(workspaceConfiguration) at \(workspaceSize)x\(workspaceSize), "
                + "not for this model, \(modelConfiguration) at \(modelSize)x\(modelSize)"
        case .unpackableWeights(let reason):
            "the int8 weights cannot be packed for the kernels: \(reason)"
        }
    }
}
