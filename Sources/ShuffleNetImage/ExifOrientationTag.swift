/// Reads the Orientation tag (0x0112) from IFD0 of an EXIF block (TIFF layout: byte-order mark "II"
/// or "MM", 42, offset of IFD0, then 12-byte entries), and gives the file's effective orientation:
/// EXIF when the block has the tag, else XMP's tiff:Orientation (`XMPOrientation`), as Pillow's
/// `getexif` / `ImageOps.exif_transpose` decide.
///
/// Anything out of bounds or out of range gives nil (treated as upright), as Pillow ignores a
/// damaged EXIF block instead of failing the image.
enum ExifOrientationTag {
    static let orientationTag = 0x0112

    /// What an EXIF block says about orientation, in the terms that decide whether Pillow goes on to
    /// look at XMP: only when the block is absent or readable without the tag.
    enum Reading: Equatable {
        /// No block, an empty one, an IFD0 out of bounds, or no (loadable) Orientation entry.
        case noTag
        /// The tag is there; its value, or nil when it is not one of the eight (0, 9, a RATIONAL...).
        case tag(ImageOrientation?)
        /// Not a TIFF header: Pillow's EXIF parser stops with an error before its XMP fallback.
        case unreadableHeader
    }

    /// TIFF field types Pillow can load (1...13 and 16, LONG8); an entry of any other type is
    /// skipped by it as if absent.
    private static let loadableTypes: Set<Int> = Set(1...13).union([16])

    static func reading(inTIFF tiff: ArraySlice<UInt8>) -> Reading {
        let bytes = Array(tiff)  // zero-based indices
        guard !bytes.isEmpty else { return .noTag }
        guard bytes.count >= 8 else { return .unreadableHeader }
        let littleEndian: Bool
        switch (bytes[0], bytes[1]) {
        case (0x49, 0x49): littleEndian = true  // "II"
        case (0x4D, 0x4D): littleEndian = false  // "MM"
        default: return .unreadableHeader
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
        guard read(2, 2) == 42 else { return .unreadableHeader }
        guard let directory = read(4, 4), let entryCount = read(directory, 2) else { return .noTag }
        for entry in 0..<entryCount {
            let at = directory + 2 + 12 * entry
            // A truncated directory: Pillow keeps the entries read so far, the tag was not among them.
            guard let tag = read(at, 2), let type = read(at + 2, 2) else { return .noTag }
            guard tag == orientationTag, loadableTypes.contains(type) else { continue }
            // SHORT is what the standard says; BYTE and LONG appear in the wild and Pillow reads them.
            let value: Int?
            switch type {
            case 1: value = read(at + 8, 1)
            case 3: value = read(at + 8, 2)
            case 4: value = read(at + 8, 4)
            default: value = nil
            }
            return .tag(value.flatMap(ImageOrientation.init(rawValue:)))
        }
        return .noTag
    }

    /// The EXIF Orientation tag alone, or nil when the block lacks it or its value is unusable.
    static func orientation(inTIFF tiff: ArraySlice<UInt8>) -> ImageOrientation? {
        if case .tag(let value) = reading(inTIFF: tiff) { return value }
        return nil
    }

    /// The effective orientation of a JPEG or PNG file: the EXIF tag (JPEG APP1, PNG eXIf) when the
    /// EXIF block has one, even an unusable one; otherwise XMP's tiff:Orientation; nil for neither.
    /// The single entry point the decoder uses, so `applyExifOrientation` covers both sources.
    static func orientation(of bytes: [UInt8], format: ImageFormat) -> ImageOrientation? {
        let exif = ExifLocator.tiffBytes(in: bytes, format: format).map(reading(inTIFF:)) ?? .noTag
        switch exif {
        case .tag(let value): return value
        case .unreadableHeader: return nil
        case .noTag: return XMPOrientation.orientation(of: bytes, format: format)
        }
    }
}
