#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CImageCodecs

/// Writes an `RGBImage` as an 8-bit RGB PNG (libpng, through the C module), e.g. the 224x224 crop
/// that `shufflenet preview` shows.
public enum PNGWriter {
    /// The PNG file's bytes.
    public static func encode(_ image: RGBImage) throws(ImageEncodingError) -> [UInt8] {
        var png: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: Int(IMAGE_CODECS_MESSAGE_CAPACITY))
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            image_codecs_encode_png(pixels.baseAddress, Int32(clamping: image.width), Int32(clamping: image.height),
                                    &png, &size, &message)
        }
        defer { image_codecs_encoded_free(png) }
        guard status == IMAGE_CODECS_OK, let png else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ImageEncodingError(path: nil, message: text.isEmpty ? "cannot encode PNG" : text)
        }
        return Array(UnsafeBufferPointer(start: png, count: size))
    }

    /// Encodes and writes to `path` (replacing any existing file).
    public static func write(_ image: RGBImage, to path: String) throws(ImageEncodingError) {
        let bytes: [UInt8]
        do {
            bytes = try encode(image)
        } catch {
            throw ImageEncodingError(path: path, message: error.message)
        }
        try writeFile(bytes, to: path)
    }

    private static func writeFile(_ bytes: [UInt8], to path: String) throws(ImageEncodingError) {
        guard let file = fopen(path, "wb") else {
            throw ImageEncodingError(path: path, message: "cannot create file (\(String(cString: strerror(errno))))")
        }
        let written = bytes.withUnsafeBytes { raw in fwrite(raw.baseAddress, 1, raw.count, file) }
        // fclose flushes, so a full disk may only show up here.
        let closed = fclose(file) == 0
        guard written == bytes.count, closed else {
            throw ImageEncodingError(path: path, message: "write failed (\(String(cString: strerror(errno))))")
        }
    }
}
