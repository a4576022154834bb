/// Copies decoded pixels into a new `RGBImage` turned the way an `ImageOrientation` says.
///
/// The copy out of the C decoder's buffer is needed anyway, so rotating while copying costs no extra
/// image-sized buffer (the largest images are hundreds of MB).
enum ImageOrientationTransform {
    /// Where output pixel (0, 0) comes from and how the source index moves per output step, in
    /// pixels. Every orientation is a walk of this form over the source.
    struct Walk {
        let start: Int
        let stepX: Int
        let stepY: Int
    }

    /// For a source of `width` x `height` pixels. Output (x, y) reads source pixel
    /// `start + x * stepX + y * stepY` (index = row * width + column).
    static func walk(_ orientation: ImageOrientation, width: Int, height: Int) -> Walk {
        let lastRow = (height - 1) * width
        switch orientation {
        case .upright: return Walk(start: 0, stepX: 1, stepY: width)
        case .mirrorHorizontal: return Walk(start: width - 1, stepX: -1, stepY: width)
        case .rotate180: return Walk(start: lastRow + width - 1, stepX: -1, stepY: -width)
        case .mirrorVertical: return Walk(start: lastRow, stepX: 1, stepY: -width)
        // Output is height x width from here on: output x runs along source rows' order, y along columns.
        case .transpose: return Walk(start: 0, stepX: width, stepY: 1)
        case .rotate90Clockwise: return Walk(start: lastRow, stepX: -width, stepY: 1)
        case .transverse: return Walk(start: lastRow + width - 1, stepX: -width, stepY: -1)
        case .rotate90CounterClockwise: return Walk(start: width - 1, stepX: width, stepY: -1)
        }
    }

    /// `source` holds `width * height * 3` bytes of RGB.
    static func apply(_ orientation: ImageOrientation, to source: UnsafeBufferPointer<UInt8>,
                      width: Int, height: Int) -> RGBImage {
        let count = width * height * 3
        if orientation == .upright {
            // One memcpy: Array(source) goes element by element, seconds for the largest images.
            let pixels = [UInt8](unsafeUninitializedCapacity: count) { output, initialized in
                guard let from = source.baseAddress, let to = output.baseAddress else { return }
                to.update(from: from, count: count)
                initialized = count
            }
            return RGBImage(checkedWidth: width, height: height, pixels: pixels)
        }
        let (outWidth, outHeight) = orientation.swapsDimensions ? (height, width) : (width, height)
        let walk = walk(orientation, width: width, height: height)
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { output, initialized in
            guard let from = source.baseAddress, let to = output.baseAddress else { return }
            var target = to
            for y in 0..<outHeight {
                var index = walk.start + y * walk.stepY
                for _ in 0..<outWidth {
                    let pixel = from + 3 * index
                    target[0] = pixel[0]
                    target[1] = pixel[1]
                    target[2] = pixel[2]
                    target += 3
                    index += walk.stepX
                }
            }
            initialized = count
        }
        return RGBImage(checkedWidth: outWidth, height: outHeight, pixels: pixels)
    }
}
