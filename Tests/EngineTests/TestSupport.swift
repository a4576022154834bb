import ShuffleNetEngine
import Testing

/// Skips the current test case, recording why, when this CPU cannot run `variant`: tests enumerate every variant
/// (`KernelVariant.allCases`), so the report shows which ones did not run here rather than silently leaving them out.
func skipUnlessSupported(_ variant: KernelVariant) throws {
    if !variant.isSupported {
        try Test.cancel("the \(variant) kernels cannot run on this CPU (supported: \(KernelVariant.supported.map(\.rawValue).joined(separator: ", ")))")
    }
}

/// Deterministic pseudo-random floats in [-1, 1) for test inputs.
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
    }
    mutating func array(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
}

/// Largest |a - b| relative to the largest |b|: one number for "same up to float rounding".
func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    let scale = max(b.map { abs($0) }.max() ?? 0, 1e-12)
    return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
}

/// Channel planes padded to a multiple of 16 floats (plus `extraStride` more), as the fast kernels expect, filled
/// from `values` (`channels` planes of `pixels` each). Padding is filled with garbage to prove it is never read as data.
func padded(_ values: [Float], channels: Int, pixels: Int, extraStride: Int = 0) -> (buffer: [Float], stride: Int) {
    let stride = (pixels + 15) / 16 * 16 + extraStride
    var buffer = [Float](repeating: 12345, count: channels * stride)
    for c in 0..<channels {
        for p in 0..<pixels { buffer[c * stride + p] = values[c * pixels + p] }
    }
    return (buffer, stride)
}

func unpadded(_ buffer: [Float], channels: Int, pixels: Int, stride: Int) -> [Float] {
    (0..<channels).flatMap { c in buffer[(c * stride)..<(c * stride + pixels)] }
}
