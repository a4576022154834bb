import CKernels

/// Why a kernel asked to run on an explicit `KernelVariant` did not run.
package enum KernelCallError: Error, CustomStringConvertible, Equatable {
    /// The CPU (or this build's architecture) cannot run that variant.
    case unsupportedVariant(KernelVariant, kernel: String)
    /// The kernel's arrays or arguments do not fit together (e.g. fewer weights than the shape needs), so running
    /// it would read or write out of bounds.
    case invalidArguments(kernel: String, reason: String)
    /// The layer's weights were packed for another variant's micro-kernels (another register tile), so the kernel
    /// refused to read them.
    case layoutMismatch(KernelVariant, kernel: String)

    package var description: String {
        switch self {
        case .unsupportedVariant(let variant, let kernel):
            "CKernels (\(kernel)): the \(variant) variant cannot run on this CPU; supported: "
                + KernelVariant.supported.map(\.rawValue).joined(separator: ", ")
        case .invalidArguments(let kernel, let reason):
            "CKernels (\(kernel)): invalid arguments: \(reason)"
        case .layoutMismatch(let variant, let kernel):
            "CKernels (\(kernel)): the weights were not packed for the \(variant) kernels (pack them for that variant)"
        }
    }

    /// Maps a return code of the C entry points (see shufflenet_kernels.h).
    static func check(_ code: Int32, variant: KernelVariant, kernel: String) throws(KernelCallError) {
        switch code {
        case SN_KERNELS_OK: return
        case SN_KERNELS_UNSUPPORTED_VARIANT: throw .unsupportedVariant(variant, kernel: kernel)
        case SN_KERNELS_LAYOUT_MISMATCH: throw .layoutMismatch(variant, kernel: kernel)
        default: throw .invalidArguments(kernel: kernel, reason: "rejected by the C kernel (code \(code))")
        }
    }

    /// Runs a kernel for a non-throwing entry point. Those run inside `ShuffleNetModel`, whose shapes were all
    /// checked when it was built (weights by `ShuffleNetWeights`, planes and buffers by the plan), so a failure
    /// there is a bug in the engine, not bad input: it stops the program rather than leave stale activations
    /// behind plausible logits.
    static func trapOnFailure(_ body: () throws(KernelCallError) -> Void) {
        do {
            try body()
        } catch {
            fatalError("\(error)")  // not preconditionFailure: its message is dropped in release builds
        }
    }

    /// Throws `.invalidArguments` unless `condition` holds.
    static func require(_ condition: Bool, kernel: String, _ reason: @autoclosure () -> String) throws(KernelCallError) {
        if !condition { throw .invalidArguments(kernel: kernel, reason: reason()) }
    }
}

extension KernelCallError {
    /// The configuration set `variant` pins, or `.unsupportedVariant` when this CPU cannot run it.
    static func kernelSet(_ variant: KernelVariant, kernel: String) throws(KernelCallError) -> sn_f32_kernel_set {
        guard let set = variant.kernelSet else { throw .unsupportedVariant(variant, kernel: kernel) }
        return set
    }
}
