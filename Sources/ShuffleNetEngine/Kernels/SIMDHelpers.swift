/// Sixteen floats: one AVX-512 register, or two AVX2 / four SSE registers on other x86 CPUs.
///
/// Only the data-movement kernels stay in Swift (max pool, im2col): loads, stores, shuffles and compares compile
/// to fast code for baseline x86-64 too. Anything that multiplies and adds lives in C (CKernels), because Swift's
/// `addingProduct` becomes a call to `fmaf` per lane unless the module is built with `-target-cpu`.
typealias Vector = SIMD16<Float>

/// Activation planes are padded to a multiple of this many floats so that SIMD loops over pixels need no
/// scalar tail: the padding is computed (harmlessly) and never read as a real pixel.
public let planeAlignment = 16

@inline(__always) func roundUpToVector(_ n: Int) -> Int { (n + 15) & ~15 }

@inline(__always) func load(_ p: UnsafePointer<Float>) -> Vector {
    UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
}

@inline(__always) func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
}

/// `p[0], p[2], ..., p[30]`: sixteen every-other floats, for stride-2 windows without gathers.
@inline(__always) func loadEven(_ p: UnsafePointer<Float>) -> Vector {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD32<Float>.self).evenHalf
}

/// Lane-wise maximum as a compare and blend. (The standard library's `pointwiseMax` follows IEEE maxNum for
/// NaNs and compiles to a scalar loop; activations here are never NaN.)
@inline(__always) func fastMax(_ a: Vector, _ b: Vector) -> Vector {
    a.replacing(with: b, where: a .< b)
}
