import CKernels

/// Which implementation of the hot kernels runs (the C target `CKernels`): one binary carries all of them and picks
/// the fastest this CPU supports, so no `-target-cpu` flag is needed for speed. `SHUFFLENET_KERNELS=avx512|avx2|generic`
/// in the environment forces one (when the CPU supports it), for tests and benchmarks.
public enum KernelVariant: String, CaseIterable, Sendable, CustomStringConvertible {
    /// Portable C vectorised by the compiler for the target's baseline (SSE2 on x86-64, NEON on arm64).
    case generic
    /// 8-lane AVX2 + FMA.
    case avx2
    /// 16-lane AVX-512F.
    case avx512

    public var description: String { rawValue }

    /// The variant every kernel call without an explicit variant uses, resolved once per process.
    public static let active: KernelVariant = KernelVariant(sn_kernels_active())

    /// The variants this CPU can run, slowest first.
    public static var supported: [KernelVariant] { allCases.filter(\.isSupported) }

    /// Whether this CPU (and this build's architecture) can run the variant.
    public var isSupported: Bool { sn_kernels_supported(cValue) != 0 }

    /// One line for reports: the active variant, and why it is not the one `SHUFFLENET_KERNELS` asked for if so.
    public static var summary: String {
        let requested = sn_kernels_requested()
        if requested == -2 { return "\(active) (SHUFFLENET_KERNELS not one of avx512, avx2, generic: ignored)" }
        if requested >= 0, let wanted = allCases.first(where: { Int($0.cValue.rawValue) == Int(requested) }),
           wanted != active {
            return "\(active) (SHUFFLENET_KERNELS=\(wanted) is not supported by this CPU)"
        }
        return active.rawValue
    }

    var cValue: sn_kernel_variant {
        switch self {
        case .generic: SN_KERNELS_GENERIC
        case .avx2: SN_KERNELS_AVX2
        case .avx512: SN_KERNELS_AVX512
        }
    }

    init(_ c: sn_kernel_variant) {
        switch c {
        case SN_KERNELS_AVX512: self = .avx512
        case SN_KERNELS_AVX2: self = .avx2
        default: self = .generic
        }
    }
}
