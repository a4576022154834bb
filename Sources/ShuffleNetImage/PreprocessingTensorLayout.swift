/// How crop bytes become network input floats for one style: which RGB channel feeds each of the
/// three output planes, and the float each byte value maps to in that plane.
///
/// Every byte maps through a 256-entry table, computed once with exactly the float32 operations
/// the Python pipelines perform (`v / 255`, then `(x - mean) / std`), so the values are the ones
/// PyTorch would produce, and the per-pixel work is a table look-up.
struct PreprocessingTensorLayout: Sendable {
    /// `planeSource[p]` is the RGB channel (0 = R) that output plane `p` is taken from.
    let planeSource: [Int]
    /// `values[p * 256 + byte]` is the float written to plane `p` for that byte.
    let values: [Float]

    init(style: PreprocessingStyle) {
        switch style {
        case .megvii:
            // Megvii trained on OpenCV's BGR arrays and fed raw 0...255 floats.
            planeSource = [2, 1, 0]
            values = (0..<3).flatMap { _ in (0..<256).map { Float($0) } }
        case .torchvision:
            // torchvision ToTensor + Normalize with the ImageNet statistics, in float32.
            let mean: [Float] = [0.485, 0.456, 0.406]
            let std: [Float] = [0.229, 0.224, 0.225]
            planeSource = [0, 1, 2]
            values = (0..<3).flatMap { plane in
                (0..<256).map { byte in (Float(byte) / 255 - mean[plane]) / std[plane] }
            }
        }
    }

    /// Writes the three planes (CHW) of `crop` into `output`, which holds exactly
    /// `3 * crop.width * crop.height` floats.
    func write(_ crop: RGBImage, into output: UnsafeMutableBufferPointer<Float>) {
        let planeSize = crop.width * crop.height
        crop.pixels.withUnsafeBufferPointer { pixels in
            values.withUnsafeBufferPointer { table in
                for plane in 0..<3 {
                    let channel = planeSource[plane]
                    let lookup = plane * 256
                    let base = plane * planeSize
                    for i in 0..<planeSize {
                        output[base + i] = table[lookup + Int(pixels[3 * i + channel])]
                    }
                }
            }
        }
    }
}
