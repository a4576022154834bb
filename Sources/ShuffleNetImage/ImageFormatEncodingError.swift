/// Why an image could not be written: the file (nil for an in-memory encode) and the reason.
public struct ImageEncodingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file being written; nil for an in-memory encode.
    public let path: String?
    /// What went wrong, for people.
    public let message: String

    /// An error about `path` (nil for an in-memory encode).
    public init(path: String?, message: String) {
        self.path = path
        self.message = message
    }

    /// "<path>: <message>", or "<memory buffer>: <message>" without a path.
    public var description: String { "\(path ?? "<memory buffer>"): \(message)" }
}
