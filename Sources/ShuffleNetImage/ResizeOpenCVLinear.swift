/// Byte-exact reimplementation of OpenCV's `cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)`
/// for 8-bit, 3-channel images — the resize Megvii's ShuffleNet checkpoints were trained and
/// evaluated with.
///
/// OpenCV's uint8 bilinear path is fixed point: a horizontal pass produces `int32` sums
/// `a * w0 + b * w1` with 11-bit weights (see `OpenCVLinearTaps`), then a vertical pass combines two
/// such rows. The vertical pass is SIMD code whose rounding is *not* `(sum + 2^21) >> 22`: each row
/// is first shifted right by 4 and narrowed to int16, multiplied by its weight keeping the high 16
/// bits, the two products are added and the result is rounded with `(v + 2) >> 2`. Checked against
/// the installed OpenCV 5.0.0 (see `Scripts/make_preprocess_fixtures.py` and the tests): every output
/// element, including the row tails, follows that SIMD rounding; the textbook scalar formula
/// `(sum + 2^21) >> 22` puts roughly 10% of bytes one level off.
///
/// No antialiasing when shrinking (OpenCV does none either): each output reads 2x2 source pixels.
/// OpenCV's special cases need no code here: an unchanged size is a copy and an exact 2x shrink
/// switches to `INTER_AREA`, and the arithmetic below already yields exactly those results
/// (weights (2048, 0) reproduce the input; weights (1024, 1024) give `(a + b + c + d + 2) >> 2`).
public enum OpenCVResize {
    static let name = "OpenCVResize.linear"

    /// Resizes `image` to `width` x `height` like OpenCV's uint8 `INTER_LINEAR`.
    public static func linear(_ image: RGBImage, width: Int, height: Int) throws(ResizeError) -> RGBImage {
        try ResizeError.validate(width: width, height: height, resampler: name)
        return linear(image, window: ResizeWindow(targetWidth: width, targetHeight: height))
    }

    /// Computes only `window` of the resized image (same bytes as cropping a full resize).
    static func linear(_ image: RGBImage, window: ResizeWindow) -> RGBImage {
        let (xTaps, yTaps) = taps(sourceWidth: image.width, sourceHeight: image.height, window: window)
        return linear(image, window: window, xTaps: xTaps, yTaps: yTaps)
    }

    /// `window` of the resize of the whole picture `sample` was taken from: the same bytes, read from the
    /// sampled rows and columns only. The sample must hold `sampledPixels(...)`.
    static func linear(_ sample: SampledImage, window: ResizeWindow) -> RGBImage {
        let (xTaps, yTaps) = taps(sourceWidth: sample.width, sourceHeight: sample.height, window: window)
        if sample.isWhole {
            return linear(sample.pixels, window: window, xTaps: xTaps, yTaps: yTaps)
        }
        return linear(sample.pixels, window: window, xTaps: xTaps.remapped(through: sample.columnSlots()),
                      yTaps: yTaps.remapped(through: sample.rowSlots()))
    }

    /// The source rows and columns `window` of a resize of a `width` x `height` picture reads.
    static func sampledPixels(width: Int, height: Int, window: ResizeWindow) -> PixelSelection {
        let (xTaps, yTaps) = taps(sourceWidth: width, sourceHeight: height, window: window)
        return PixelSelection(rows: yTaps.sourceIndices, columns: xTaps.sourceIndices, width: width, height: height)
    }

    private static func taps(sourceWidth: Int, sourceHeight: Int,
                             window: ResizeWindow) -> (x: OpenCVLinearTaps, y: OpenCVLinearTaps) {
        (OpenCVLinearTaps(sourceLength: sourceWidth, targetLength: window.targetWidth,
                          outputs: window.columns, pinsWeightsAtEdges: true),
         OpenCVLinearTaps(sourceLength: sourceHeight, targetLength: window.targetHeight,
                          outputs: window.rows, pinsWeightsAtEdges: false))
    }

    private static func linear(_ image: RGBImage, window: ResizeWindow, xTaps: OpenCVLinearTaps,
                               yTaps: OpenCVLinearTaps) -> RGBImage {
        let rowLength = window.width * 3
        var output = [UInt8](repeating: 0, count: rowLength * window.height)
        let cache = OpenCVHorizontalRowCache(rowLength: rowLength)

        image.pixels.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                for outRow in 0..<window.height {
                    let pair = cache.rows(top: Int(yTaps.first[outRow]), bottom: Int(yTaps.second[outRow]),
                                          source: source, imageWidth: image.width, taps: xTaps)
                    blendRows(pair.top, pair.bottom,
                              topWeight: yTaps.firstWeight[outRow], bottomWeight: yTaps.secondWeight[outRow],
                              into: UnsafeMutableBufferPointer(rebasing: destination[(outRow * rowLength)...]),
                              count: rowLength)
                }
            }
        }
        return RGBImage(checkedWidth: window.width, height: window.height, pixels: output)
    }

    /// OpenCV's SIMD vertical pass (`VResizeLinearVec_32s8u`): shift by 4 to fit int16, keep the high
    /// half of each 16x16-bit product, add, then round away the last 2 fraction bits.
    @inline(__always)
    private static func blendRows(_ top: UnsafePointer<Int32>, _ bottom: UnsafePointer<Int32>,
                                  topWeight: Int32, bottomWeight: Int32,
                                  into destination: UnsafeMutableBufferPointer<UInt8>, count: Int) {
        for i in 0..<count {
            let upper = ((top[i] >> 4) &* topWeight) >> 16
            let lower = ((bottom[i] >> 4) &* bottomWeight) >> 16
            let value = (upper &+ lower &+ 2) >> 2
            destination[i] = UInt8(clamping: value)
        }
    }
}
