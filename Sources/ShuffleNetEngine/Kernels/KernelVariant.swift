import CKernels

/// Which kernels run (the C target `CKernels`). One binary carries micro-kernels for several instruction sets; each
/// operator picks its own from the CPU's feature bits, once, so no `-target-cpu` flag is needed for speed.
/// `SHUFFLENET_KERNELS=avx512|avx2|generic` in the environment caps the features the kernels may use (for tests
/// and benchmarks), and a model can be pinned to any variant the CPU supports.
public enum KernelVariant: String, CaseIterable, Sendable, CustomStringConvertible {
    /// No optional CPU feature: portable C vectorised by the compiler for the target's baseline (SSE2 on x86-64,
    /// NEON on arm64).
    case generic
    /// Up to AVX2 + FMA: the 8-lane micro-kernels.
    case avx2
    /// Up to AVX-512F: the 16-lane micro-kernels.
    case avx512

    public var description: String { rawValue }

    /// The widest variant within the enabled CPU features: what every kernel call without an explicit variant
    /// runs, resolved once per process.
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

    /// The CPU features this process detected, and those the kernels use (the detected ones under the
    /// `SHUFFLENET_KERNELS` cap), e.g. "avx2+fma avx512f avx512vnni".
    public static var cpuFeatures: (detected: String, enabled: String) {
        (describe(sn_cpu_features_detected()), describe(sn_cpu_features_enabled()))
    }

    /// The micro-kernel each operator runs on this variant (empty when the CPU cannot run it), e.g.
    /// "sn_f32_pointwise_ukernel_8x48__avx512f".
    public var microKernels: [String] {
        guard let set = kernelSet else { return [] }
        return [String(cString: set.pointwise.pointee.name), String(cString: set.depthwise.pointee.name),
                String(cString: set.conv3x3s2.pointee.name), String(cString: set.pool.pointee.name),
                String(cString: set.dense.pointee.name), String(cString: set.dense_f16.pointee.name)]
    }

    /// The configuration set this variant pins (one micro-kernel configuration per operator, chosen from the
    /// CPU's features under this variant's cap), or nil when the CPU cannot run it. Chosen once per process.
    var kernelSet: sn_f32_kernel_set? { Self.kernelSets[Int(cValue.rawValue)] }

    // Pointers to the C tables' constant configurations: never written after the tables are built.
    nonisolated(unsafe) private static let kernelSets: [sn_f32_kernel_set?] = allCases.map { variant in
        var set = sn_f32_kernel_set()
        return sn_f32_kernels_for_variant(variant.cValue, &set) == SN_KERNELS_OK ? set : nil
    }

    private static func describe(_ features: sn_cpu_features) -> String {
        var buffer = [CChar](repeating: 0, count: 128)
        _ = sn_cpu_features_describe(features, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
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

/// Packed weights made by CKernels for one configuration (`sn_packed_weights`): opaque, tagged with the layout
/// the configuration's micro-kernel reads, freed with the last reference. Immutable once made, so shareable.
final class PackedWeights: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { sn_packed_weights_free(pointer) }

    var layout: sn_weights_layout { sn_packed_weights_layout(pointer) }
}
