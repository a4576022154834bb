/// A 3x3 depthwise convolution with padding 1 and stride 1 or 2, BatchNorm folded into `weights` / `bias`.
///
/// Channel `c` is written to output plane `destinations[c]`: a depthwise conv treats every channel alike,
/// so the channel shuffle of the unit (Sec. 3.1) is applied here, by where the result is stored, at no cost.
///
/// Each input plane is first copied into a zero-bordered scratch plane, so the 9 taps need no bounds checks
/// and stride 1 runs 16 output pixels per vector.
public struct DepthwiseConvolution3x3: Sendable {
    public let channels: Int
    public let stride: Int
    /// `[channels][3][3]`.
    public let weights: [Float]
    public let bias: [Float]
    public let destinations: [Int]

    public init(weights: [Float], bias: [Float], channels: Int, stride: Int, destinations: [Int]? = nil) {
        self.weights = weights
        self.bias = bias
        self.channels = channels
        self.stride = stride
        self.destinations = destinations ?? Array(0..<channels)
    }

    public static func outputSize(_ n: Int, stride: Int) -> Int { (n - 1) / stride + 1 }

    /// Floats of scratch `run` needs for a `height x width` input.
    public static func scratchCount(height: Int, width: Int) -> Int {
        (height + 2) * paddedRow(width) + 64
    }

    /// Row length of the scratch plane: room for the left border and for the widest vector read past the
    /// last pixel (stride 2 reads 32 floats from column `2x + 2`).
    static func paddedRow(_ width: Int) -> Int { roundUpToVector(width) + 64 }

    /// Only channels in `channelRange` are computed (default: all), so threads can split the work; each
    /// thread needs its own `scratch`.
    public func run(input: UnsafePointer<Float>, inputPlaneStride: Int, height: Int, width: Int,
                    output: UnsafeMutablePointer<Float>, outputPlaneStride: Int, scratch: UnsafeMutablePointer<Float>,
                    channelRange: Range<Int>? = nil) {
        let row = Self.paddedRow(width)
        let outH = Self.outputSize(height, stride: stride), outW = Self.outputSize(width, stride: stride)
        weights.withUnsafeBufferPointer { w in
            for c in channelRange ?? 0..<channels {
                Self.copyWithZeroBorder(input + c * inputPlaneStride, height: height, width: width, into: scratch)
                let k = w.baseAddress! + 9 * c
                let out = output + destinations[c] * outputPlaneStride
                if stride == 1 {
                    stride1(scratch, row: row, k: k, bias: bias[c], out: out, height: outH, width: outW)
                } else {
                    stride2(scratch, row: row, k: k, bias: bias[c], out: out, height: outH, width: outW)
                }
            }
        }
    }

    /// Copies a `height x width` plane to (1, 1) of a scratch plane with rows of `paddedRow(width)` floats and
    /// writes zeros everywhere around it (top and bottom rows, left column, right margin): exactly the
    /// padding the 3x3 window needs, without clearing the whole scratch each time.
    static func copyWithZeroBorder(_ source: UnsafePointer<Float>, height: Int, width: Int, into scratch: UnsafeMutablePointer<Float>) {
        let row = paddedRow(width)
        scratch.update(repeating: 0, count: row + 1)
        for y in 0..<height {
            let line = scratch + (y + 1) * row  // line[0] is the left pad, line[1...width] the pixels
            (line + 1).update(from: source + y * width, count: width)
            (line + width + 1).update(repeating: 0, count: row - width)  // right margin and the next row's left pad
        }
        (scratch + (height + 1) * row).update(repeating: 0, count: row + 64)
    }

    @inline(__always)
    private func stride1(_ padded: UnsafePointer<Float>, row: Int, k: UnsafePointer<Float>, bias: Float,
                         out: UnsafeMutablePointer<Float>, height: Int, width: Int) {
        let t0 = Vector(repeating: k[0]), t1 = Vector(repeating: k[1]), t2 = Vector(repeating: k[2])
        let t3 = Vector(repeating: k[3]), t4 = Vector(repeating: k[4]), t5 = Vector(repeating: k[5])
        let t6 = Vector(repeating: k[6]), t7 = Vector(repeating: k[7]), t8 = Vector(repeating: k[8])
        let b = Vector(repeating: bias)
        for y in 0..<height {
            let r0 = padded + y * row, r1 = r0 + row, r2 = r1 + row
            var x = 0
            while x < width {
                var acc = b
                acc = acc.addingProduct(load(r0 + x), t0)
                acc = acc.addingProduct(load(r0 + x + 1), t1)
                acc = acc.addingProduct(load(r0 + x + 2), t2)
                acc = acc.addingProduct(load(r1 + x), t3)
                acc = acc.addingProduct(load(r1 + x + 1), t4)
                acc = acc.addingProduct(load(r1 + x + 2), t5)
                acc = acc.addingProduct(load(r2 + x), t6)
                acc = acc.addingProduct(load(r2 + x + 1), t7)
                acc = acc.addingProduct(load(r2 + x + 2), t8)
                let dst = out + y * width + x
                if x + 16 <= width {
                    store(acc, dst)
                } else {
                    for i in 0..<(width - x) { dst[i] = acc[i] }
                }
                x += 16
            }
        }
    }

    @inline(__always)
    private func stride2(_ padded: UnsafePointer<Float>, row: Int, k: UnsafePointer<Float>, bias: Float,
                         out: UnsafeMutablePointer<Float>, height: Int, width: Int) {
        let t0 = Vector(repeating: k[0]), t1 = Vector(repeating: k[1]), t2 = Vector(repeating: k[2])
        let t3 = Vector(repeating: k[3]), t4 = Vector(repeating: k[4]), t5 = Vector(repeating: k[5])
        let t6 = Vector(repeating: k[6]), t7 = Vector(repeating: k[7]), t8 = Vector(repeating: k[8])
        let b = Vector(repeating: bias)
        for y in 0..<height {
            let r0 = padded + 2 * y * row, r1 = r0 + row, r2 = r1 + row
            var x = 0
            while x < width {
                // Output pixels x..x+15 read padded columns 2x+dx, 2x+2+dx, ...: the even lanes of 32 floats.
                let c = 2 * x
                var acc = b
                acc = acc.addingProduct(loadEven(r0 + c), t0)
                acc = acc.addingProduct(loadEven(r0 + c + 1), t1)
                acc = acc.addingProduct(loadEven(r0 + c + 2), t2)
                acc = acc.addingProduct(loadEven(r1 + c), t3)
                acc = acc.addingProduct(loadEven(r1 + c + 1), t4)
                acc = acc.addingProduct(loadEven(r1 + c + 2), t5)
                acc = acc.addingProduct(loadEven(r2 + c), t6)
                acc = acc.addingProduct(loadEven(r2 + c + 1), t7)
                acc = acc.addingProduct(loadEven(r2 + c + 2), t8)
                let dst = out + y * width + x
                if x + 16 <= width {
                    store(acc, dst)
                } else {
                    for i in 0..<(width - x) { dst[i] = acc[i] }
                }
                x += 16
            }
        }
    }
}
