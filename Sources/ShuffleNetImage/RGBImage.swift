/// A decoded picture: 8-bit RGB, interleaved, rows top to bottom, no padding between rows.
///
/// This is the hand-off point between decoding (C shims over libjpeg-turbo and libpng) and
/// preprocessing (resize, crop, normalisation). Every decoder produces this, whatever the file held
/// (grayscale, palette, alpha, 16-bit), so preprocessing sees one format only.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes: R, G, B for pixel (x, y) at `3 * (y * width + x)`.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3,
                     "RGBImage needs width*height*3 bytes")
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}
