import CKernels

/// One int8 dense micro-kernel configuration compiled into CKernels (`sn_qu8_dense_config_at`), e.g.
/// `sn_qu8_dense_ukernel_128__avx512vnni`. Tests run every one the CPU has and record a skip for the others.
package struct QuantizedDenseKernel: @unchecked Sendable, CustomStringConvertible, Hashable {
    // A pointer into CKernels' immutable static table.
    let config: UnsafePointer<sn_qu8_dense_config>

    /// Every configuration compiled in, best first (the last is portable).
    package static var all: [QuantizedDenseKernel] {
        (0..<sn_qu8_dense_config_count()).compactMap { sn_qu8_dense_config_at($0).map(QuantizedDenseKernel.init) }
    }

    /// What a default call would run: the first configuration within the enabled features.
    package static var selected: QuantizedDenseKernel { QuantizedDenseKernel(config: sn_qu8_dense_select(sn_cpu_features_enabled())) }

    /// The first configuration within the detected features under `variant`'s cap.
    package static func selected(for variant: KernelVariant) -> QuantizedDenseKernel {
        QuantizedDenseKernel(config: sn_qu8_dense_select(sn_cpu_features_detected() & sn_kernels_cap(variant.cValue)))
    }

    package var name: String { String(cString: config.pointee.name) }
    package var description: String { name }
    /// Whether this CPU (and OS) has every feature the micro-kernel needs.
    package var isSupported: Bool { config.pointee.required & ~sn_cpu_features_detected() == 0 }
}

/// The int8 classifier: `logits[o] = fma(Float(acc), multipliers[o], bias[o])`, `acc = sum_k W[o][k] * (x[k] -
/// inputZeroPoint)` exact in Int32, x the u8 feature codes (`QuantizedReferenceNetwork.run`'s last step;
/// `QuantizedReferenceKernels.dense` is its naive twin). Weights packed once for one micro-kernel.
package struct QuantizedDenseLayer: @unchecked Sendable {
    package let kernel: QuantizedDenseKernel
    package let outputs: Int
    package let inputs: Int
    let packed: PackedWeights

    /// `weights` `[outputs][inputs]` in -127...127; `multipliers` (input scale x weight scale) and `bias` per output.
    package init(kernel: QuantizedDenseKernel, weights: [Int8], inputZeroPoint: UInt8, multipliers: [Float], bias: [Float],
                 outputs: Int, inputs: Int) throws(KernelCallError) {
        let name = "int8 dense packing"
        guard outputs >= 1, inputs >= 1, weights.count == outputs * inputs, multipliers.count == outputs, bias.count == outputs else {
            throw .invalidArguments(kernel: name, reason: "the arrays do not fit \(outputs) outputs of \(inputs) inputs")
        }
        var error: Int32 = 0
        let pointer = sn_qu8_dense_pack(kernel.config, weights, inputZeroPoint, multipliers, bias, outputs, inputs, &error)
        guard let pointer else { throw .invalidArguments(kernel: name, reason: "rejected by the C packer (code \(error))") }
        self.kernel = kernel
        self.outputs = outputs
        self.inputs = inputs
        packed = PackedWeights(pointer)
    }

    /// Logits `outputs` (indices into `output`, which holds every output) of the `inputs` codes at `input`.
    package func run(input: UnsafePointer<UInt8>, output: UnsafeMutablePointer<Float>, outputs range: Range<Int>) throws(KernelCallError) {
        let code = sn_qu8_dense(kernel.config, packed.pointer, input, output, range.lowerBound, range.upperBound)
        switch code {
        case SN_KERNELS_OK: return
        case SN_KERNELS_UNSUPPORTED_VARIANT:
            throw .invalidArguments(kernel: kernel.name, reason: "this CPU lacks the micro-kernel's features")
        case SN_KERNELS_LAYOUT_MISMATCH:
            throw .invalidArguments(kernel: kernel.name, reason: "layout mismatch: the weights were packed for another layout")
        default: throw .invalidArguments(kernel: kernel.name, reason: "rejected by the C driver (code \(code))")
        }
    }
}
