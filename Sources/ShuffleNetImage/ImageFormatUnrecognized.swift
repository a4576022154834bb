/// Wording for files that are neither JPEG nor PNG: the first bytes in hex, plus a guess at what the
/// file is when its signature is a well-known one, so "not a JPEG or PNG file" is actionable.
enum ImageFormatUnrecognized {
    /// Signatures of formats people commonly mistake for photos we can read. `offset` is where the
    /// signature starts (ISO media files put the size of their first box before "ftyp").
    private static let knownSignatures: [(name: String, offset: Int, bytes: [UInt8])] = [
        ("GIF", 0, Array("GIF8".utf8)),
        ("BMP", 0, Array("BM".utf8)),
        ("WebP", 8, Array("WEBP".utf8)),
        ("TIFF", 0, [0x49, 0x49, 0x2A, 0x00]),
        ("TIFF", 0, [0x4D, 0x4D, 0x00, 0x2A]),
        ("HEIF/AVIF or MP4", 4, Array("ftyp".utf8)),
        ("JPEG 2000", 0, [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20]),
        ("PDF", 0, Array("%PDF".utf8)),
        ("ZIP", 0, [0x50, 0x4B, 0x03, 0x04]),
    ]

    /// e.g. `unsupported format: not a JPEG or PNG file (starts with 47 49 46 38 39 61 07 00, looks like GIF)`.
    static func message(for bytes: [UInt8]) -> String {
        let head = bytes.prefix(8)
        let hex = head.map { byte in
            let digits = String(byte, radix: 16, uppercase: true)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: " ")
        if let guess = guessFormat(bytes) {
            return "unsupported format: not a JPEG or PNG file (starts with \(hex), looks like \(guess))"
        }
        return "unsupported format: not a JPEG or PNG file (starts with \(hex))"
    }

    private static func guessFormat(_ bytes: [UInt8]) -> String? {
        for known in knownSignatures where bytes.count >= known.offset + known.bytes.count {
            if bytes[known.offset..<(known.offset + known.bytes.count)].elementsEqual(known.bytes) {
                return known.name
            }
        }
        let head = bytes.prefix(64)
        let looksLikeText = head.allSatisfy { byte in
            (0x20...0x7E).contains(byte) || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte >= 0x80
        }
        return looksLikeText ? "text" : nil
    }
}
