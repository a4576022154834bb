/// Why preprocessing refused its input. Real images (`RGBImage`) always preprocess; these cover the
/// entry points that take plain numbers or caller-owned buffers.
public enum PreprocessingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Geometry was asked for an image size no `RGBImage` can have.
    case invalidImageSize(width: Int, height: Int)
    /// The caller's tensor buffer does not hold exactly `3 * 224 * 224` floats.
    case tensorBufferSize(expected: Int, actual: Int)

    public var description: String {
        switch self {
        case let .invalidImageSize(width, height):
            return "Preprocessing: image size \(width)x\(height) is invalid; sides must be 1...\(PreprocessingGeometry.maximumSide)"
        case let .tensorBufferSize(expected, actual):
            return "Preprocessing: tensor buffer holds \(actual) floats, the network input needs \(expected)"
        }
    }
}
