/// Turns a decoded photo into the network input: resize (short side 256), centre crop 224, then
/// planar CHW floats in the channel order and scale the weights were trained with.
///
/// Cheap to create (one small table); reuse one per style. Only the 224x224 crop window of the
/// resized image is ever computed. For `megvii` (2x2 taps per output) that makes the cost nearly
/// independent of the photo size; `torchvision`'s antialiasing filter still reads every source pixel
/// under the crop, so large photos cost proportionally more there.
public struct Preprocessor: Sendable {
    /// The short side photos are resized to before the centre crop.
    public static let resizeShortSide = 256
    /// Side of the square centre crop the network reads.
    public static let cropSize = 224
    /// Floats in one network input: 3 planes of 224x224.
    public static let tensorCount = 3 * cropSize * cropSize

    /// Which training pipeline's resize, channel order and scale this reproduces.
    public let style: PreprocessingStyle
    private let layout: PreprocessingTensorLayout

    /// A preprocessor for weights trained with `style`'s pipeline.
    public init(style: PreprocessingStyle) {
        self.style = style
        layout = PreprocessingTensorLayout(style: style)
    }

    /// The 224x224 RGB crop the network sees (after resize and crop, before channel reordering and
    /// normalisation).
    public func crop(_ image: RGBImage) -> RGBImage {
        let window = PreprocessingGeometry(style: style, image: image).window
        switch style {
        case .megvii: return OpenCVResize.linear(image, window: window)
        case .torchvision: return PillowResize.bilinear(image, window: window)
        }
    }

    /// The pixels of a `width` x `height` upright picture that `crop` reads: for `megvii`, the two rows and
    /// two columns each output pixel's bilinear taps touch (at most 448 of each, whatever the photo's size);
    /// for `torchvision`, whose antialiasing filter reads everything under the crop, every pixel.
    public func pixelsRead(width: Int, height: Int) -> PixelSelection {
        guard let geometry = try? PreprocessingGeometry(style: style, imageWidth: width, imageHeight: height) else {
            return .all(width: max(0, width), height: max(0, height))
        }
        switch style {
        case .megvii: return OpenCVResize.sampledPixels(width: width, height: height, window: geometry.window)
        case .torchvision: return .all(width: width, height: height)
        }
    }

    /// The crop of the picture `sample` was taken from, which must hold `pixelsRead` of it (or every pixel).
    public func crop(_ sample: SampledImage) -> RGBImage {
        let window = PreprocessingGeometry(style: style, validWidth: sample.width, validHeight: sample.height).window
        switch style {
        case .megvii: return OpenCVResize.linear(sample, window: window)
        case .torchvision: return PillowResize.bilinear(sample.pixels, window: window)
        }
    }

    /// The network input for `image`: `3 * 224 * 224` floats, CHW.
    public func tensor(from image: RGBImage) -> [Float] {
        let crop = crop(image)
        return [Float](unsafeUninitializedCapacity: Self.tensorCount) { buffer, initialized in
            layout.write(crop, into: buffer)
            initialized = Self.tensorCount
        }
    }

    /// Writes the network input for `image` into a caller-owned buffer (e.g. the engine's input
    /// tensor), which must hold exactly `tensorCount` floats.
    public func writeTensor(from image: RGBImage,
                            into output: UnsafeMutableBufferPointer<Float>) throws(PreprocessingError) {
        guard output.count == Self.tensorCount else {
            throw .tensorBufferSize(expected: Self.tensorCount, actual: output.count)
        }
        try writeTensor(fromCrop: crop(image), into: output)
    }

    /// Writes the network input for a crop already made by `crop(_:)`, for callers that also keep the crop.
    public func writeTensor(fromCrop crop: RGBImage,
                            into output: UnsafeMutableBufferPointer<Float>) throws(PreprocessingError) {
        guard output.count == Self.tensorCount else {
            throw .tensorBufferSize(expected: Self.tensorCount, actual: output.count)
        }
        layout.write(crop, into: output)
    }
}
