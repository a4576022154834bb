import CKernels

/// Why a kernel asked to run on an explicit `KernelVariant` did not run.
package enum KernelCallError: Error, CustomStringConvertible, Equatable {
    /// The CPU (or this build's architecture) cannot run that variant.
    case unsupportedVariant(KernelVariant, kernel: String)
    /// The kernel's arrays or arguments do not fit together (e.g. fewer weights than the shape needs), so running
    /// it would read or write out of bounds.
    case invalidArguments(kernel: String, reason: String)

    package var description: String {
        switch self {
        case .unsupportedVariant(let variant, let kernel):
            "CKernels (\(kernel)): the \(variant) variant cannot run on this CPU; supported: "
                + KernelVariant.supported.map(\.rawValue).joined(separator: ", ")
        case .invalidArguments(let kernel, let reason):
            "CKernels (\(kernel)): invalid arguments: \(reason)"
        }
    }

    /// Maps a return code of the C entry points (see shufflenet_kernels.h).
    static func check(_ code: Int32, variant: KernelVariant, kernel: String) throws(KernelCallError) {
        switch code {
        case SN_KERNELS_OK: return
        case SN_KERNELS_UNSUPPORTED_VARIANT: throw .unsupportedVariant(variant, kernel: kernel)
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
            preconditionFailure("\(error)")
        }
    }

    /// Throws `.invalidArguments` unless `condition` holds.
    static func require(_ condition: Bool, kernel: String, _ reason: @autoclosure () -> String) throws(KernelCallError) {
        if !condition { throw .invalidArguments(kernel: kernel, reason: reason()) }
    }
}

extension KernelCallError {
    /// Points `args`' weight and bias fields at `weights` and `bias` for the duration of `call` (a C entry point
    /// taking the variant and the argument struct), then maps its return code: the hand-off every kernel with
    /// one weight array and one bias array makes.
    static func run<Args>(_ args: Args, weights: [Float], at weightsField: WritableKeyPath<Args, UnsafePointer<Float>?>,
                          bias: [Float], at biasField: WritableKeyPath<Args, UnsafePointer<Float>?>,
                          on variant: KernelVariant, kernel: String,
                          _ call: (sn_kernel_variant, UnsafePointer<Args>) -> Int32) throws(KernelCallError) {
        var args = args
        let code = weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                args[keyPath: weightsField] = w.baseAddress
                args[keyPath: biasField] = b.baseAddress
                return withUnsafePointer(to: args) { call(variant.cValue, $0) }
            }
        }
        try check(code, variant: variant, kernel: kernel)
    }
}
