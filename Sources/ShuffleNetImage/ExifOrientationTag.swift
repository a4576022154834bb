/// Reads the Orientation tag (0x0112) from IFD0 of an EXIF block (TIFF layout: byte-order mark "II"
/// or "MM", 42, offset of IFD0, then 12-byte entries).
///
/// Anything out of bounds or out of range gives nil (treated as upright), as Pillow ignores a
/// damaged EXIF block instead of failing the image.
enum ExifOrientationTag {
    static let orientationTag = 0x0112

    static func orientation(inTIFF tiff: ArraySlice<UInt8>) -> ImageOrientation? {
        let bytes = Array(tiff)  // zero-based indices
        guard bytes.count >= 8 else { return nil }
        let littleEndian: Bool
        switch (bytes[0], bytes[1]) {
        case (0x49, 0x49): littleEndian = true  // "II"
        case (0x4D, 0x4D): littleEndian = false  // "MM"
        default: return nil
        }
        func read(_ offset: Int, _ count: Int) -> Int? {
            guard offset >= 0, count <= bytes.count, offset <= bytes.count - count else { return nil }
            var value = 0
            for i in 0..<count {
                let byte = Int(bytes[littleEndian ? offset + count - 1 - i : offset + i])
                value = value << 8 | byte
            }
            return value
        }
        guard read(2, 2) == 42, let directory = read(4, 4), let entryCount = read(directory, 2) else { return nil }
        for entry in 0..<entryCount {
            let at = directory + 2 + 12 * entry
            guard let tag = read(at, 2), let type = read(at + 2, 2) else { return nil }
            guard tag == orientationTag else { continue }
            // SHORT is what the standard says; BYTE and LONG appear in the wild and Pillow reads them.
            let value: Int?
            switch type {
            case 1: value = read(at + 8, 1)
            case 3: value = read(at + 8, 2)
            case 4: value = read(at + 8, 4)
            default: value = nil
            }
            return value.flatMap(ImageOrientation.init(rawValue:))
        }
        return nil
    }

    /// The orientation recorded in a JPEG or PNG file, or nil when it has no (usable) EXIF block.
    static func orientation(of bytes: [UInt8], format: ImageFormat) -> ImageOrientation? {
        ExifLocator.tiffBytes(in: bytes, format: format).flatMap(orientation(inTIFF:))
    }
}
