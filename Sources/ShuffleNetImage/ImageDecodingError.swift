/// Why a file or buffer could not be turned into an `RGBImage`.
///
/// `kind` is for code that reacts (skip unreadable files, report corrupt ones); `message` is for
/// people and says what was wrong, e.g. "truncated JPEG data (Premature end of JPEG file)".
public struct ImageDecodingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, for code that reacts to it.
    public enum Kind: Sendable, Equatable {
        /// No file at the path.
        case fileNotFound
        /// Exists but cannot be read: permissions, a directory, an I/O error.
        case unreadable
        /// Zero bytes.
        case empty
        /// Not a JPEG or PNG, or a variant of them that is not decoded (12-bit JPEG, ...).
        case unsupportedFormat
        /// Damaged or truncated data.
        case corrupt
        /// Header dimensions over the decoder's limits, or not enough memory for the pixels.
        case tooLarge
    }

    /// The file being decoded; nil when decoding a memory buffer.
    public let path: String?
    /// What went wrong, for code.
    public let kind: Kind
    /// What went wrong, for people.
    public let message: String

    /// An error about `path` (nil for a memory buffer).
    public init(path: String?, kind: Kind, message: String) {
        self.path = path
        self.kind = kind
        self.message = message
    }

    /// "<path>: <message>", or "<memory buffer>: <message>" without a path.
    public var description: String {
        "\(path ?? "<memory buffer>"): \(message)"
    }
}
