/// Walks the metadata containers of a JPEG (marker segments before the first scan) or a PNG
/// (chunks up to IEND), handing each payload to a visitor, for the EXIF and XMP readers.
///
/// Only lengths are trusted, and only after a bounds check: a damaged file ends the walk early,
/// never crashes it; the decoder reports the damage itself. The visitor returns false to stop.
enum ImageMetadataSegments {
    private static func bigEndian(_ bytes: [UInt8], _ offset: Int, count: Int) -> Int {
        var value = 0
        for i in 0..<count { value = value << 8 | Int(bytes[offset + i]) }
        return value
    }

    /// Segments with a length field, in file order, up to the first SOS (entropy-coded data is
    /// never searched) or EOI.
    static func forEachJPEGSegment(in bytes: [UInt8], _ visit: (_ marker: UInt8, _ payload: ArraySlice<UInt8>) -> Bool) {
        var offset = 2  // after SOI
        while offset + 4 <= bytes.count {
            guard bytes[offset] == 0xFF else { return }
            let marker = bytes[offset + 1]
            if marker == 0xFF { offset += 1; continue }  // fill byte before a marker
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { offset += 2; continue }  // no length
            if marker == 0xDA || marker == 0xD9 { return }  // scan data or end of image
            let length = bigEndian(bytes, offset + 2, count: 2)
            guard length >= 2, offset + 2 + length <= bytes.count else { return }
            guard visit(marker, bytes[(offset + 4)..<(offset + 2 + length)]) else { return }
            offset += 2 + length
        }
    }

    /// Every chunk before IEND, in file order: metadata may come before or after the image data.
    /// The CRC is not checked (nor required to be present after the last chunk's data).
    static func forEachPNGChunk(in bytes: [UInt8], _ visit: (_ type: ArraySlice<UInt8>, _ data: ArraySlice<UInt8>) -> Bool) {
        var offset = 8  // after the signature
        while offset + 8 <= bytes.count {
            let length = bigEndian(bytes, offset, count: 4)
            let type = bytes[(offset + 4)..<(offset + 8)]
            guard length <= bytes.count - offset - 8 else { return }
            if type.elementsEqual("IEND".utf8) { return }
            guard visit(type, bytes[(offset + 8)..<(offset + 8 + length)]) else { return }
            offset += 12 + length  // length, type, data, CRC
        }
    }
}
