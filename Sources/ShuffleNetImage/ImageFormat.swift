/// The two file formats the decoder reads, recognised by their first bytes, never by file name
/// (photo collections contain PNGs named `.JPEG`).
public enum ImageFormat: String, Sendable {
    /// JPEG (baseline or progressive, 8-bit), through libjpeg-turbo.
    case jpeg
    /// PNG (any bit depth, palette, grey, alpha, interlaced), through libpng.
    case png

    /// JPEG: SOI marker followed by the first marker's 0xFF.
    static let jpegSignature: [UInt8] = [0xFF, 0xD8, 0xFF]
    /// PNG: fixed 8-byte signature (0x89 "PNG" CR LF SUB LF).
    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The format whose signature `bytes` starts with, or nil.
    init?(signatureOf bytes: some Collection<UInt8>) {
        if bytes.starts(with: Self.jpegSignature) {
            self = .jpeg
        } else if bytes.starts(with: Self.pngSignature) {
            self = .png
        } else {
            return nil
        }
    }

    /// Upper-case name for messages: "JPEG", "PNG".
    var displayName: String { rawValue.uppercased() }
}
