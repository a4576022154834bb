/// Per-output-index filter taps of Pillow's `Image.resize(..., Image.BILINEAR)` for one axis.
///
/// Pillow's bilinear is a triangle filter whose support grows with the shrink factor, so shrinking
/// averages many source pixels (antialiasing) instead of sampling 2. Weights are computed in Double,
/// normalised to sum 1, then stored as integers with 22 fraction bits (`PRECISION_BITS`); the
/// Double operations below are in Pillow's order so the integer weights come out identical.
struct PillowBilinearKernel {
    /// Pillow's `PRECISION_BITS` (32 - 8 - 2) for 8-bit images.
    static let precisionBits = 22

    /// First source index read by each output.
    private(set) var start: [Int] = []
    /// Number of source indices read by each output.
    private(set) var count: [Int] = []
    /// `stride` weights per output (the first `count` used), fixed point.
    private(set) var weights: [Int32] = []
    let stride: Int
    /// Source indices read by any output: the part of the axis a pass actually needs.
    private(set) var sourceSpan: Range<Int> = 0..<0

    init(sourceLength: Int, targetLength: Int, outputs: Range<Int>) {
        let scale = Double(sourceLength) / Double(targetLength)
        let filterScale = max(scale, 1.0)
        let support = 1.0 * filterScale  // bilinear's support is 1 source pixel before scaling
        stride = Int(support.rounded(.up)) * 2 + 1
        let inverseFilterScale = 1.0 / filterScale
        let one = Double(1 << Self.precisionBits)

        start.reserveCapacity(outputs.count)
        count.reserveCapacity(outputs.count)
        weights = [Int32](repeating: 0, count: outputs.count * stride)
        var real = [Double](repeating: 0, count: stride)

        for (slot, d) in outputs.enumerated() {
            let center = (Double(d) + 0.5) * scale
            // Pillow rounds the window ends with `(int)(x + 0.5)`, i.e. truncation toward zero.
            let first = max(Int(center - support + 0.5), 0)
            let taps = min(Int(center + support + 0.5), sourceLength) - first
            var total = 0.0
            for x in 0..<taps {
                let weight = Self.triangle((Double(x + first) - center + 0.5) * inverseFilterScale)
                real[x] = weight
                total += weight
            }
            for x in 0..<taps {
                let normalised = total != 0 ? real[x] / total : real[x]
                // Triangle weights are never negative, so Pillow's `(int)(0.5 + w * 2^22)` applies.
                weights[slot * stride + x] = Int32(0.5 + normalised * one)
            }
            start.append(first)
            count.append(taps)
        }
        if let low = start.min(), let high = zip(start, count).map({ $0 + $1 }).max() {
            sourceSpan = low..<high
        }
    }

    private static func triangle(_ x: Double) -> Double {
        let distance = abs(x)
        return distance < 1.0 ? 1.0 - distance : 0.0
    }
}
