/// Finds the EXIF block (a little TIFF file) inside a JPEG or PNG, by walking the file's own
/// structure: JPEG marker segments up to the first scan, PNG chunks up to IEND.
///
/// Only lengths are trusted, and only after a bounds check, so a damaged file yields nil, never a
/// crash; the decoder reports the damage itself.
enum ExifLocator {
    /// The "Exif\0\0" identifier that starts an EXIF APP1 segment (and that some PNG writers wrongly
    /// put in front of eXIf data too).
    static let exifIdentifier: [UInt8] = Array("Exif".utf8) + [0, 0]

    /// The TIFF bytes of the first EXIF block (the one Pillow uses), or nil.
    static func tiffBytes(in bytes: [UInt8], format: ImageFormat) -> ArraySlice<UInt8>? {
        switch format {
        case .jpeg: jpegExif(bytes)
        case .png: pngExif(bytes)
        }
    }

    private static func bigEndian(_ bytes: [UInt8], _ offset: Int, count: Int) -> Int {
        var value = 0
        for i in 0..<count { value = value << 8 | Int(bytes[offset + i]) }
        return value
    }

    /// APP1 segments come before the first SOS; entropy-coded data is never searched.
    private static func jpegExif(_ bytes: [UInt8]) -> ArraySlice<UInt8>? {
        var offset = 2  // after SOI
        while offset + 4 <= bytes.count {
            guard bytes[offset] == 0xFF else { return nil }
            let marker = bytes[offset + 1]
            if marker == 0xFF { offset += 1; continue }  // fill byte before a marker
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { offset += 2; continue }  // no length
            if marker == 0xDA || marker == 0xD9 { return nil }  // scan data or end of image: no EXIF
            let length = bigEndian(bytes, offset + 2, count: 2)
            guard length >= 2, offset + 2 + length <= bytes.count else { return nil }
            let payload = bytes[(offset + 4)..<(offset + 2 + length)]
            if marker == 0xE1, payload.starts(with: exifIdentifier) {
                return payload.dropFirst(exifIdentifier.count)
            }
            offset += 2 + length
        }
        return nil
    }

    /// eXIf may come before or after the image data, so every chunk up to IEND is looked at.
    private static func pngExif(_ bytes: [UInt8]) -> ArraySlice<UInt8>? {
        var offset = 8  // after the signature
        while offset + 8 <= bytes.count {
            let length = bigEndian(bytes, offset, count: 4)
            let type = bytes[(offset + 4)..<(offset + 8)]
            guard length <= bytes.count - offset - 8 else { return nil }
            if type.elementsEqual("IEND".utf8) { return nil }
            if type.elementsEqual("eXIf".utf8) {
                let payload = bytes[(offset + 8)..<(offset + 8 + length)]
                return payload.starts(with: exifIdentifier) ? payload.dropFirst(exifIdentifier.count) : payload
            }
            offset += 12 + length  // length, type, data, CRC
        }
        return nil
    }
}
