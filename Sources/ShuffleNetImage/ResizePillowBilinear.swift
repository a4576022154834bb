/// Reimplementation of Pillow's `Image.resize((w, h), Image.BILINEAR)` for RGB images — what
/// torchvision's `Resize` does to PIL images, used by `PreprocessingStyle.torchvision`.
///
/// Two separable passes, each rounding to bytes: every output is `sum(byte * weight) + 2^21`,
/// shifted right by 22 and clamped to 0...255. Shrinking widens the triangle filter (antialiasing).
///
/// The pass order matters (the intermediate is rounded to bytes) and Pillow 13 picks it per call:
/// found empirically (no source for this Pillow version was available), the vertical pass runs first
/// exactly when `(H - h) > 2 * max(W - w, 0)`, i.e. when the height shrinks by more than twice what
/// the width shrinks. That rule reproduced Pillow 13.0.0 on every case tried (hundreds of random
/// sizes); with a fixed horizontal-first order up to 1/3 of the bytes were 1 level off.
public enum PillowResize {
    static let name = "PillowResize.bilinear"

    /// Resizes `image` to `width` x `height` like Pillow's `Image.resize(..., BILINEAR)`.
    public static func bilinear(_ image: RGBImage, width: Int, height: Int) throws(ResizeError) -> RGBImage {
        try ResizeError.validate(width: width, height: height, resampler: name)
        return bilinear(image, window: ResizeWindow(targetWidth: width, targetHeight: height))
    }

    /// Computes only `window` of the resized image (same bytes as cropping a full resize).
    static func bilinear(_ image: RGBImage, window: ResizeWindow) -> RGBImage {
        let xKernel = PillowBilinearKernel(sourceLength: image.width, targetLength: window.targetWidth,
                                           outputs: window.columns)
        let yKernel = PillowBilinearKernel(sourceLength: image.height, targetLength: window.targetHeight,
                                           outputs: window.rows)
        if verticalFirst(image: image, window: window) {
            // Only the source columns some output column reads go through the vertical pass.
            let columns = xKernel.sourceSpan
            let tall = vertical(image, kernel: yKernel, rowShift: 0, columns: columns)
            return horizontal(tall, rows: 0..<tall.height, kernel: xKernel, columnShift: columns.lowerBound)
        } else {
            let rows = yKernel.sourceSpan
            let wide = horizontal(image, rows: rows, kernel: xKernel, columnShift: 0)
            return vertical(wide, kernel: yKernel, rowShift: rows.lowerBound, columns: 0..<wide.width)
        }
    }

    /// Pillow 13's pass order (see the type's documentation).
    static func verticalFirst(image: RGBImage, window: ResizeWindow) -> Bool {
        image.height - window.targetHeight > 2 * max(image.width - window.targetWidth, 0)
    }

    /// Filters along rows: output column `x` reads input columns `kernel.start[x] - columnShift ...`,
    /// for input rows `rows`.
    private static func horizontal(_ input: RGBImage, rows: Range<Int>, kernel: PillowBilinearKernel,
                                   columnShift: Int) -> RGBImage {
        let outWidth = kernel.start.count
        var output = [UInt8](repeating: 0, count: rows.count * outWidth * 3)
        input.pixels.withUnsafeBufferPointer { source in
        kernel.weights.withUnsafeBufferPointer { weights in
        kernel.start.withUnsafeBufferPointer { starts in
        kernel.count.withUnsafeBufferPointer { counts in
        output.withUnsafeMutableBufferPointer { destination in
            var out = 0
            for row in rows {
                let rowStart = row * input.width * 3
                for x in 0..<outWidth {
                    let first = rowStart + (starts[x] - columnShift) * 3
                    let weightBase = x * kernel.stride
                    var r = Int32(rounding), g = Int32(rounding), b = Int32(rounding)
                    for t in 0..<counts[x] {
                        let w = weights[weightBase + t]
                        let p = first + 3 * t
                        r &+= Int32(source[p]) &* w
                        g &+= Int32(source[p + 1]) &* w
                        b &+= Int32(source[p + 2]) &* w
                    }
                    destination[out] = clip(Int(r))
                    destination[out + 1] = clip(Int(g))
                    destination[out + 2] = clip(Int(b))
                    out += 3
                }
            }
        }
        }
        }
        }
        }
        return RGBImage(checkedWidth: outWidth, height: rows.count, pixels: output)
    }

    /// Filters along columns: output row `y` reads input rows `kernel.start[y] - rowShift ...`,
    /// for input columns `columns`.
    private static func vertical(_ input: RGBImage, kernel: PillowBilinearKernel, rowShift: Int,
                                 columns: Range<Int>) -> RGBImage {
        let outHeight = kernel.start.count
        let inputStride = input.width * 3
        let span = columns.count * 3
        var output = [UInt8](repeating: 0, count: outHeight * span)
        // One accumulator row, filled tap by tap: contiguous loops the compiler vectorises. Sums stay
        // below 2^31 (weights total about 2^22, bytes at most 255), as in Pillow's int arithmetic.
        var sums = [Int32](repeating: 0, count: span)
        input.pixels.withUnsafeBufferPointer { source in
            kernel.weights.withUnsafeBufferPointer { weights in
                output.withUnsafeMutableBufferPointer { destination in
                    sums.withUnsafeMutableBufferPointer { sums in
                        for y in 0..<outHeight {
                            let top = (kernel.start[y] - rowShift) * inputStride + columns.lowerBound * 3
                            let weightBase = y * kernel.stride
                            for i in 0..<span { sums[i] = Int32(rounding) }
                            for t in 0..<kernel.count[y] {
                                let w = weights[weightBase + t]
                                let row = top + t * inputStride
                                for i in 0..<span { sums[i] &+= Int32(source[row + i]) &* w }
                            }
                            let out = y * span
                            for i in 0..<span { destination[out + i] = clip(Int(sums[i])) }
                        }
                    }
                }
            }
        }
        return RGBImage(checkedWidth: columns.count, height: outHeight, pixels: output)
    }

    /// Half of the fixed-point unit, so the final shift rounds to nearest.
    private static let rounding = 1 << (PillowBilinearKernel.precisionBits - 1)

    /// Pillow's `clip8`: drop the fraction bits, clamp to a byte.
    @inline(__always)
    private static func clip(_ sum: Int) -> UInt8 {
        UInt8(clamping: sum >> PillowBilinearKernel.precisionBits)
    }
}
