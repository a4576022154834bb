/// The eight values of the EXIF / TIFF Orientation tag (0x0112): how the stored pixels must be turned
/// to show the picture upright. Names say what to do to the stored image, as in Pillow's
/// `ImageOps.exif_transpose`.
public enum ImageOrientation: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// 1: stored upright.
    case upright = 1
    /// 2: mirror left-right.
    case mirrorHorizontal = 2
    /// 3: turn 180 degrees.
    case rotate180 = 3
    /// 4: mirror top-bottom.
    case mirrorVertical = 4
    /// 5: swap rows and columns (mirror along the main diagonal).
    case transpose = 5
    /// 6: turn 90 degrees clockwise (the usual phone photo taken in portrait).
    case rotate90Clockwise = 6
    /// 7: mirror along the other diagonal.
    case transverse = 7
    /// 8: turn 90 degrees counter-clockwise.
    case rotate90CounterClockwise = 8

    /// Whether width and height trade places.
    public var swapsDimensions: Bool { rawValue >= 5 }

    public var description: String { "EXIF orientation \(rawValue)" }
}
