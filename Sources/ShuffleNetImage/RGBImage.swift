/// A decoded picture: 8-bit RGB, interleaved, rows top to bottom, no padding between rows.
///
/// This is the hand-off point between decoding (C shims over libjpeg-turbo and libpng) and
/// preprocessing (resize, crop, normalisation). Every decoder produces this, whatever the file held
/// (grayscale, palette, alpha, 16-bit), so preprocessing sees one format only.
public struct RGBImage: Sendable, Equatable {
    /// Width in pixels (at least 1).
    public let width: Int
    /// Height in pixels (at least 1).
    public let height: Int
    /// `width * height * 3` bytes: R, G, B for pixel (x, y) at `3 * (y * width + x)`.
    public var pixels: [UInt8]

    /// Checks that `pixels` holds exactly `width * height * 3` bytes for a non-empty picture: pixels that come from
    /// elsewhere (another decoder, a camera buffer) get an error, not a trap, when they do not fit.
    public init(width: Int, height: Int, pixels: [UInt8]) throws(RGBImageError) {
        guard width > 0, height > 0, width <= Int.max / 3 / height, pixels.count == width * height * 3 else {
            throw RGBImageError(width: width, height: height, byteCount: pixels.count)
        }
        self.init(checkedWidth: width, height: height, pixels: pixels)
    }

    /// For the package's decoders, resizers and crops, whose output sizes hold by construction.
    package init(checkedWidth width: Int, height: Int, pixels: [UInt8]) {
        assert(width > 0 && height > 0 && pixels.count == width * height * 3)
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// Pixels that do not make a `width x height` RGB picture.
public struct RGBImageError: Error, Equatable, CustomStringConvertible {
    /// The width given.
    public let width: Int
    /// The height given.
    public let height: Int
    /// The bytes given.
    public let byteCount: Int

    public var description: String {
        "RGBImage: \(byteCount) bytes cannot be a \(width)x\(height) RGB picture"
            + (width > 0 && height > 0 && width <= Int.max / 3 / height ? " (it needs \(width * height * 3))" : " (empty or too large)")
    }
}
