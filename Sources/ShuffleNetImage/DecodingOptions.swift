/// What `ImageDecoder` may do with a file beyond decoding it, and the limits it enforces.
///
/// The defaults are what a photo classifier wants: pictures upright as a person sees them, damaged
/// files refused rather than half grey, and Pillow's decompression-bomb limit.
public struct DecodingOptions: Sendable, Equatable {
    /// Pillow's `Image.MAX_IMAGE_PIXELS` (about 256 MiB of RGB), so the same files are refused.
    public static let defaultMaxPixels = 89_478_485
    /// Cap on what the decoder library itself may allocate for one image (libjpeg's progressive coefficient
    /// buffers above all; libpng's row buffers), on top of the pixels kept.
    public static let defaultMaxDecoderMemoryBytes = 384 << 20

    /// Rotate / mirror according to the EXIF Orientation tag (JPEG APP1 or PNG eXIf), or when EXIF
    /// has none, XMP's tiff:Orientation (JPEG APP1, PNG iTXt), as Pillow's `ImageOps.exif_transpose`
    /// does. `classify --ignore-exif` turns both off.
    public var applyExifOrientation: Bool
    /// Accept truncated or damaged image data with whatever the library recovers (grey blocks for
    /// JPEG, black rows for PNG) and report it in `DecodedImage.warnings`. Broken headers are still
    /// errors. `classify --allow-truncated`.
    public var allowTruncated: Bool
    /// Images with more pixels are refused from their header, before any pixel memory is allocated.
    /// `classify --max-pixels`. Either side over 65,535 (the JPEG maximum) is refused whatever this says.
    public var maxPixels: Int
    /// Files whose decoding needs more working memory than this are refused as too large. Within a
    /// `DecodeMemoryBudget` the smaller of the two applies.
    public var maxDecoderMemoryBytes: Int

    /// Options with the given settings; the defaults are `DecodingOptions.default`'s.
    public init(applyExifOrientation: Bool = true, allowTruncated: Bool = false,
                maxPixels: Int = DecodingOptions.defaultMaxPixels,
                maxDecoderMemoryBytes: Int = DecodingOptions.defaultMaxDecoderMemoryBytes) {
        self.applyExifOrientation = applyExifOrientation
        self.allowTruncated = allowTruncated
        self.maxPixels = maxPixels
        self.maxDecoderMemoryBytes = maxDecoderMemoryBytes
    }

    /// Upright pictures, damaged files refused, Pillow's pixel limit, 384 MiB for the decoder library.
    public static let `default` = DecodingOptions()
}
