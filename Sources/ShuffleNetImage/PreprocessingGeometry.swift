/// Where the network's 224x224 input comes from: the size the photo is resized to and the
/// top-left corner of the centre crop in that resized image.
///
/// The size formulas are the ones in each training pipeline, written with the same Double operations
/// in the same order as the Python code so they agree by construction rather than by analysis (a
/// one-pixel difference in the resized size shifts the whole crop). The crop offset rounds half to
/// even like Python's `round`, which matters for common photos: 500x375 resizes to 341x256 and
/// (341 - 224) / 2 = 58.5 crops from column 58, not 59.
public struct PreprocessingGeometry: Sendable, Equatable {
    /// Width of the resized photo.
    public let resizedWidth: Int
    /// Height of the resized photo.
    public let resizedHeight: Int
    /// First column of the crop in the resized photo.
    public let cropLeft: Int
    /// First row of the crop in the resized photo.
    public let cropTop: Int
    /// Side of the square crop (224).
    public let cropSize: Int

    /// Largest image side accepted by the throwing initialiser: far beyond any decodable photo, small
    /// enough that the size formulas cannot overflow.
    public static let maximumSide = 1 << 31

    /// Geometry for an image of the given size, e.g. to predict what `Preprocessor` will crop.
    public init(style: PreprocessingStyle, imageWidth: Int, imageHeight: Int) throws(PreprocessingError) {
        guard (1...Self.maximumSide).contains(imageWidth), (1...Self.maximumSide).contains(imageHeight) else {
            throw .invalidImageSize(width: imageWidth, height: imageHeight)
        }
        self.init(style: style, validWidth: imageWidth, validHeight: imageHeight)
    }

    /// Geometry for an existing image; its sides are positive and its pixels fit in memory, so the
    /// formulas cannot fail.
    public init(style: PreprocessingStyle, image: RGBImage) {
        self.init(style: style, validWidth: image.width, validHeight: image.height)
    }

    init(style: PreprocessingStyle, validWidth: Int, validHeight: Int) {
        let shortSide = Preprocessor.resizeShortSide
        let (width, height) = Self.resizedSize(style: style, width: validWidth, height: validHeight,
                                               shortSide: shortSide)
        resizedWidth = width
        resizedHeight = height
        cropSize = Preprocessor.cropSize
        cropLeft = Self.centreCropOffset(length: width, crop: cropSize)
        cropTop = Self.centreCropOffset(length: height, crop: cropSize)
    }

    static func resizedSize(style: PreprocessingStyle, width: Int, height: Int,
                            shortSide: Int) -> (width: Int, height: Int) {
        let short = Double(shortSide), w = Double(width), h = Double(height)
        switch style {
        case .megvii:
            // Megvii's OpencvResize: `(int(size/H*W + 0.5), size) if H < W else (size, int(size/W*H + 0.5))`.
            return height < width ? (Int(short / h * w + 0.5), shortSide) : (shortSide, Int(short / w * h + 0.5))
        case .torchvision:
            // torchvision `_compute_resized_output_size`: long = int(size * long / short), ties go to width.
            return width <= height ? (shortSide, Int(Double(shortSide * height) / w))
                                   : (Int(Double(shortSide * width) / h), shortSide)
        }
    }

    /// torchvision `center_crop`: `int(round((length - crop) / 2.0))`, Python rounding (half to even).
    static func centreCropOffset(length: Int, crop: Int) -> Int {
        Int((Double(length - crop) / 2.0).rounded(.toNearestOrEven))
    }

    /// The crop as a window of the resized image. The resized short side (256) always exceeds the
    /// crop (224), so the window lies inside the image.
    var window: ResizeWindow {
        ResizeWindow(targetWidth: resizedWidth, targetHeight: resizedHeight,
                     columns: cropLeft..<(cropLeft + cropSize), rows: cropTop..<(cropTop + cropSize))
    }
}
