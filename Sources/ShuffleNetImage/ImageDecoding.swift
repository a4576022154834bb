import CImageCodecs

/// Turns JPEG and PNG files into 8-bit RGB, whatever colour type they store.
///
/// The format is chosen from the content, not the file name. The work happens in the C module
/// `CImageCodecs` (libjpeg-turbo and libpng); nothing is printed, and every failure, including a
/// truncated file that libjpeg would silently pad with grey, comes back as an `ImageDecodingError`.
public enum ImageDecoder {
    /// JPEG or PNG according to the first bytes, or nil for anything else.
    public static func detectFormat(_ bytes: some Collection<UInt8>) -> ImageFormat? {
        ImageFormat(signatureOf: bytes)
    }

    /// Decodes a whole file held in memory. `path` only labels errors.
    public static func decode(data: [UInt8], path: String? = nil) throws(ImageDecodingError) -> RGBImage {
        guard !data.isEmpty else {
            throw ImageDecodingError(path: path, kind: .empty, message: "empty file (0 bytes)")
        }
        guard let format = detectFormat(data) else {
            throw ImageDecodingError(path: path, kind: .unsupportedFormat,
                                     message: ImageFormatUnrecognized.message(for: data))
        }
        var result = ImageCodecsResult()
        defer { image_codecs_result_free(&result) }
        data.withUnsafeBufferPointer { buffer in
            switch format {
            case .jpeg: image_codecs_decode_jpeg(buffer.baseAddress, buffer.count, &result)
            case .png: image_codecs_decode_png(buffer.baseAddress, buffer.count, &result)
            }
        }
        guard result.status == IMAGE_CODECS_OK, let pixels = result.pixels else {
            throw ImageDecodingError(path: path, kind: errorKind(for: result.status),
                                     message: messageText(of: result, format: format))
        }
        let width = Int(result.width)
        let height = Int(result.height)
        let bytes = Array(UnsafeBufferPointer(start: pixels, count: width * height * 3))
        return RGBImage(width: width, height: height, pixels: bytes)
    }

    /// Reads and decodes the file at `path`; errors carry the path.
    public static func decode(contentsOf path: String) throws(ImageDecodingError) -> RGBImage {
        let data = try ImageDecodingFileReader.readAll(path)
        return try decode(data: data, path: path)
    }

    private static func errorKind(for status: ImageCodecsStatus) -> ImageDecodingError.Kind {
        switch status {
        case IMAGE_CODECS_INVALID_ARGUMENT: .empty
        case IMAGE_CODECS_UNSUPPORTED: .unsupportedFormat
        case IMAGE_CODECS_TOO_LARGE, IMAGE_CODECS_OUT_OF_MEMORY: .tooLarge
        default: .corrupt  // IMAGE_CODECS_CORRUPT, IMAGE_CODECS_TRUNCATED
        }
    }

    /// The C side's NUL-terminated message, with a fallback should it ever be empty.
    private static func messageText(of result: ImageCodecsResult, format: ImageFormat) -> String {
        let text = withUnsafeBytes(of: result.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return text.isEmpty ? "could not decode \(format.displayName) data (status \(result.status.rawValue))" : text
    }
}
