import CImageCodecs

/// Turns JPEG and PNG files into 8-bit RGB, whatever colour type they store, upright according to
/// their EXIF orientation (or XMP tiff:Orientation when EXIF has none).
///
/// The format is chosen from the content, not the file name. The work happens in the C module
/// `CImageCodecs` (libjpeg-turbo and libpng); nothing is printed, and every failure, including a
/// truncated file that libjpeg would silently pad with grey, comes back as an `ImageDecodingError`.
/// Size limits are checked on the header, before pixel memory is allocated (`DecodingOptions`).
///
/// Conversions, chosen to match Pillow's `Image.open(p).convert("RGB")` (and OpenCV's `imread`):
/// alpha and PNG tRNS transparency are dropped, not composited onto a background; 16-bit PNG
/// samples keep their high byte, `v >> 8`, a scaling of the full range that differs from libpng's
/// rounding `png_set_scale_16` by at most one level (Scripts/make_hostile_fixtures.py measures it);
/// no gamma or ICC colour management; Adobe CMYK/YCCK becomes RGB by the naive formula.
public enum ImageDecoder {
    /// JPEG or PNG according to the first bytes, or nil for anything else.
    public static func detectFormat(_ bytes: some Collection<UInt8>) -> ImageFormat? {
        ImageFormat(signatureOf: bytes)
    }

    /// The orientation of a JPEG or PNG file as Pillow's `exif_transpose` sees it: the EXIF tag (JPEG
    /// APP1, PNG eXIf), else XMP's tiff:Orientation (JPEG APP1, PNG iTXt); nil when there is none or
    /// the value found is not one of the eight. The name predates the XMP fallback.
    public static func exifOrientation(of bytes: [UInt8]) -> ImageOrientation? {
        detectFormat(bytes).flatMap { ExifOrientationTag.orientation(of: bytes, format: $0) }
    }

    /// Decodes a whole file held in memory. `path` only labels errors.
    public static func decode(data: [UInt8], path: String? = nil,
                              options: DecodingOptions = .default) throws(ImageDecodingError) -> RGBImage {
        try decodeWithDetails(data: data, path: path, options: options).image
    }

    /// Reads and decodes the file at `path`; errors carry the path.
    public static func decode(contentsOf path: String,
                              options: DecodingOptions = .default) throws(ImageDecodingError) -> RGBImage {
        try decodeWithDetails(contentsOf: path, options: options).image
    }

    /// As `decode(contentsOf:options:)`, plus the orientation found and any warnings.
    public static func decodeWithDetails(contentsOf path: String,
                                         options: DecodingOptions = .default) throws(ImageDecodingError) -> DecodedImage {
        let data = try ImageDecodingFileReader.readAll(path)
        return try decodeWithDetails(data: data, path: path, options: options)
    }

    /// As `decode(data:path:options:)`, plus the orientation found and any warnings.
    public static func decodeWithDetails(data: [UInt8], path: String? = nil,
                                         options: DecodingOptions = .default) throws(ImageDecodingError) -> DecodedImage {
        guard !data.isEmpty else {
            throw ImageDecodingError(path: path, kind: .empty, message: "empty file (0 bytes)")
        }
        guard let format = detectFormat(data) else {
            throw ImageDecodingError(path: path, kind: .unsupportedFormat,
                                     message: ImageFormatUnrecognized.message(for: data))
        }
        guard options.maxPixels > 0, options.maxDecoderMemoryBytes > 0 else {
            throw ImageDecodingError(path: path, kind: .tooLarge,
                                     message: "decoding limits must be positive (maxPixels \(options.maxPixels), maxDecoderMemoryBytes \(options.maxDecoderMemoryBytes))")
        }
        let orientation = ExifOrientationTag.orientation(of: data, format: format)
        let applied = options.applyExifOrientation && orientation != nil && orientation != .upright
        let codecOptions = ImageCodecsDecoding.codecOptions(options)
        // Upright pictures are decoded straight into the array the RGBImage keeps, so the largest
        // buffer exists once; turned ones are rotated while being copied out of the C buffer.
        let decoded = applied
            ? try ImageCodecsDecoding.decodeAndTurn(data, format: format, options: codecOptions, path: path,
                                                    orientation: orientation ?? .upright)
            : try ImageCodecsDecoding.decodeInPlace(data, format: format, options: codecOptions, path: path)
        return DecodedImage(image: decoded.image, format: format, exifOrientation: orientation, orientationApplied: applied,
                            recoveredFromDamage: decoded.recovered, warnings: decoded.warning.map { [$0] } ?? [])
    }
}
