/// Sixteen floats: one AVX-512 register, or two AVX2 / four SSE registers on other x86 CPUs.
///
/// Every kernel that touches whole activation planes lives in C (CKernels), compiled per instruction set and
/// dispatched at run time; Swift's `addingProduct` would become a call to `fmaf` per lane unless the module were
/// built with `-target-cpu`. What stays here (the global average pool) only loads and adds.
typealias Vector = SIMD16<Float>

/// Activation planes are padded to a multiple of this many floats so that SIMD loops over pixels need no
/// scalar tail: the padding is computed (harmlessly) and never read as a real pixel.
package let planeAlignment = 16

@inline(__always) func roundUpToVector(_ n: Int) -> Int { (n + 15) & ~15 }

@inline(__always) func load(_ p: UnsafePointer<Float>) -> Vector {
    UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
}
