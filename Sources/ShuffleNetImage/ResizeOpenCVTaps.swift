/// Per-output-index source positions and 11-bit weights of OpenCV's uint8 `INTER_LINEAR` resize,
/// for one axis.
///
/// The arithmetic deliberately mirrors OpenCV's: the scale is `1 / (dst / src)` in Double (not
/// `src / dst`), the sample position `(d + 0.5) * scale - 0.5` is rounded to Float before `floor`,
/// the fraction and `1 - fraction` are Float, and weights are `round_half_even(weight * 2048)`.
/// Changing any of these (e.g. computing in Double throughout) moves some weights by one unit,
/// which moves some output bytes by one level.
struct OpenCVLinearTaps {
    /// OpenCV's `INTER_RESIZE_COEF_BITS`: weights are fixed point with this many fraction bits.
    static let weightBits = 11
    static let weightOne: Float = Float(1 << weightBits)

    /// Source indices of the two samples (already clamped into the image).
    private(set) var first: [Int32] = []
    private(set) var second: [Int32] = []
    /// Weights of the two samples, each in 0...2048.
    private(set) var firstWeight: [Int32] = []
    private(set) var secondWeight: [Int32] = []

    /// - Parameters:
    ///   - outputs: the output indices wanted (a window of `0..<targetLength`).
    ///   - pinsWeightsAtEdges: OpenCV treats the two axes differently. Horizontally, a sample that
    ///     falls left of pixel 0 or at/after the last pixel is snapped onto that pixel with weights
    ///     (1, 0). Vertically only the row index is clipped; the fractional weights are kept, so the
    ///     first and last rows are a weighted sum of the same row twice, which rounds differently.
    init(sourceLength: Int, targetLength: Int, outputs: Range<Int>, pinsWeightsAtEdges: Bool) {
        let inverseScale = Double(targetLength) / Double(sourceLength)
        let scale = 1.0 / inverseScale
        let last = sourceLength - 1
        first.reserveCapacity(outputs.count)
        second.reserveCapacity(outputs.count)
        firstWeight.reserveCapacity(outputs.count)
        secondWeight.reserveCapacity(outputs.count)

        for d in outputs {
            let position = Float((Double(d) + 0.5) * scale - 0.5)
            let floored = position.rounded(.down)
            var index = Int(floored)
            var fraction = position - floored
            if pinsWeightsAtEdges {
                if index < 0 { index = 0; fraction = 0 }
                if index >= last { index = last; fraction = 0 }
            }
            first.append(Int32(min(max(index, 0), last)))
            second.append(Int32(min(max(index + 1, 0), last)))
            firstWeight.append(Int32(((1 - fraction) * Self.weightOne).rounded(.toNearestOrEven)))
            secondWeight.append(Int32((fraction * Self.weightOne).rounded(.toNearestOrEven)))
        }
    }

    /// The same taps with every source index replaced by `slots[index]`: for reading a sample that holds
    /// only some of the source's rows or columns (`SampledImage`). Every tapped index must be sampled.
    func remapped(through slots: [Int32]) -> OpenCVLinearTaps {
        var copy = self
        copy.first = first.map { slots[Int($0)] }
        copy.second = second.map { slots[Int($0)] }
        assert(!copy.first.contains(-1) && !copy.second.contains(-1), "a tapped pixel was not sampled")
        return copy
    }

    /// Every source index the taps read.
    var sourceIndices: [Int] { (first + second).map(Int.init) }
}
