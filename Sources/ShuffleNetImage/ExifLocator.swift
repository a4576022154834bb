/// Finds the EXIF block (a little TIFF file) inside a JPEG (APP1) or PNG (eXIf), by walking the
/// file's own structure with `ImageMetadataSegments`; a damaged file yields nil, never a crash.
enum ExifLocator {
    /// The "Exif\0\0" identifier that starts an EXIF APP1 segment (and that some PNG writers wrongly
    /// put in front of eXIf data too).
    static let exifIdentifier: [UInt8] = Array("Exif".utf8) + [0, 0]

    /// The TIFF bytes of the first EXIF block (the one Pillow uses), or nil.
    static func tiffBytes(in bytes: [UInt8], format: ImageFormat) -> ArraySlice<UInt8>? {
        var found: ArraySlice<UInt8>?
        switch format {
        case .jpeg:
            ImageMetadataSegments.forEachJPEGSegment(in: bytes) { marker, payload in
                guard marker == 0xE1, payload.starts(with: exifIdentifier) else { return true }
                found = payload.dropFirst(exifIdentifier.count)
                return false
            }
        case .png:
            ImageMetadataSegments.forEachPNGChunk(in: bytes) { type, data in
                guard type.elementsEqual("eXIf".utf8) else { return true }
                found = data.starts(with: exifIdentifier) ? data.dropFirst(exifIdentifier.count) : data
                return false
            }
        }
        return found
    }
}
