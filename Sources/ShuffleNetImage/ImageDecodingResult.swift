/// A decoded file with what the decoder noticed on the way, for callers that log or report more
/// than the pixels (`ImageDecoder.decodeWithDetails`).
public struct DecodedImage: Sendable, Equatable {
    /// Upright when `DecodingOptions.applyExifOrientation` (the default) is on.
    public let image: RGBImage
    /// The format the file's first bytes showed.
    public let format: ImageFormat
    /// The orientation found in the file, from EXIF or else XMP (nil without one), whether or not it
    /// was applied. See `ImageDecoder.exifOrientation(of:)`.
    public let exifOrientation: ImageOrientation?
    /// Whether `image` has been turned according to `exifOrientation`.
    public let orientationApplied: Bool
    /// True when `allowTruncated` let damaged data through: some pixels are made up.
    public let recoveredFromDamage: Bool
    /// One line each, for people: the damage accepted under `allowTruncated`, or a harmless
    /// oddity the library reported (e.g. "iCCP: known incorrect sRGB profile").
    public let warnings: [String]
}
