/// Why a resize request was refused. Resizing itself cannot fail once the sizes are sane, so these
/// are all about the requested target.
public enum ResizeError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Width or height of the target was zero or negative.
    case invalidTargetSize(resampler: String, width: Int, height: Int)
    /// The target would need more bytes than this process can address (width * height * 3 overflows).
    case targetTooLarge(resampler: String, width: Int, height: Int)

    public var description: String {
        switch self {
        case let .invalidTargetSize(resampler, width, height):
            return "\(resampler): cannot resize to \(width)x\(height); both sides must be at least 1 pixel"
        case let .targetTooLarge(resampler, width, height):
            return "\(resampler): cannot resize to \(width)x\(height); the RGB buffer size overflows Int"
        }
    }

    /// Checks a requested target size before any buffer is sized from it.
    static func validate(width: Int, height: Int, resampler: String) throws(ResizeError) {
        guard width > 0, height > 0 else {
            throw .invalidTargetSize(resampler: resampler, width: width, height: height)
        }
        let (pixels, overflow1) = width.multipliedReportingOverflow(by: height)
        let (_, overflow2) = pixels.multipliedReportingOverflow(by: 3)
        guard !overflow1, !overflow2 else {
            throw .targetTooLarge(resampler: resampler, width: width, height: height)
        }
    }
}
