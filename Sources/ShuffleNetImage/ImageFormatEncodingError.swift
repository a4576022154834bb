/// Why an image could not be written: the file (nil for an in-memory encode) and the reason.
public struct ImageEncodingError: Error, CustomStringConvertible, Sendable, Equatable {
    public let path: String?
    public let message: String

    public init(path: String?, message: String) {
        self.path = path
        self.message = message
    }

    /// "<path>: <message>", or "<memory buffer>: <message>" without a path.
    public var description: String { "\(path ?? "<memory buffer>"): \(message)" }
}
