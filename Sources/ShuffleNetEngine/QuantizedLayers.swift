/// The arithmetic a model runs: fp32 (`ShuffleNetWeights`) or int8 (`QuantizedWeights`, made by `shufflenet quantize`).
public enum Precision: String, Sendable, CaseIterable, CustomStringConvertible {
    /// 32-bit floats throughout.
    case fp32
    /// `u8` activations and `s8` weights with exact `Int32` sums (conv1 stays fp32; see `ActivationQuantization`).
    case int8

    /// `fp32` or `int8`.
    public var description: String { rawValue }
}

/// The int8 network packed for one kernel variant: conv1 in fp32 (its output quantized after the max pool), every
/// unit's three convolutions with `s8` weights on `u8` channel blocks, the stride-2 average pool requantized into
/// the concat, the global pool and the `s8` classifier (or the binary16 one, see `Head`). The arithmetic is `QuantizedReferenceNetwork`'s (the
/// scheme: `ActivationQuantization`); each kernel is tested against it exactly.
struct QuantizedLayers: Sendable {
    struct Unit: Sendable {
        let plan: UnitPlan
        /// The map of the unit's input (the residual of a stride-1 unit, the pooled half of a stride-2 concat).
        let input: ActivationQuantization
        /// The map of the unit's output.
        let output: ActivationQuantization
        let compress: QuantizedPointwiseConvolution  // 1x1 GConv + BN + ReLU, per-channel output maps
        let depthwise: QuantizedDepthwiseConvolution  // 3x3 DWConv + BN, storing its blocks shuffled
        let expand: QuantizedPointwiseConvolution    // 1x1 GConv + BN (+ residual) + ReLU
        /// Stride 2: whether the branch can be written straight into the concat after the pooled channels. It can
        /// when the pooled channels fill whole blocks and each group's outputs do too (0.5x g3, 1x g3); otherwise
        /// (0.5x g8's first unit: 16 pooled channels, then 8 groups of 22) it is computed group-padded into the
        /// branch buffer and copied into place.
        let branchInPlace: Bool
    }

    let stem: StemConvolution
    let stemOutput: ActivationQuantization
    let units: [Unit]
    let featuresOutput: ActivationQuantization
    let classifier: Head

    /// The classifier: `s8` on the `u8` pooled features, or, when the file carries recheck weights, the fp32
    /// network's own classifier at 16 bits on the fp32 pooled features (`RecheckWeights`: the int8 network and
    /// its recheck network then share it, and the `s8` copy is not packed).
    enum Head: Sendable {
        case int8(QuantizedDenseLayer)
        case binary16(DenseLayer)
    }

    /// Packs every layer of `weights` for the micro-kernels `kernels` selects. The weights were checked on load;
    /// the packers still refuse what the kernels cannot compute exactly (e.g. a scale whose inverse is infinite).
    init(weights q: QuantizedWeights, plan: NetworkPlan, kernels: KernelVariant) throws(KernelCallError) {
        let c = plan.configuration
        let pointwiseKernel = QuantizedPointwiseKernel.selected(for: kernels)
        let depthwiseKernel = QuantizedDepthwiseKernel.selected(for: kernels)
        stem = StemConvolution(weights: q.stemWeights, bias: q.stemBias, inputChannels: 3, outputChannels: c.stemChannels,
                               kernels: kernels)
        stemOutput = q.stemOutput
        var input = q.stemOutput
        var units: [Unit] = []
        for (u, w) in zip(plan.units, q.units) {
            let mid = u.bottleneckChannels
            // The multipliers are the reference's `inputScale * weightScale[o]`, in the same float operation.
            let compress = try QuantizedPointwiseConvolution(
                kernel: pointwiseKernel, weights: w.compress.weights,
                inputZeroPoints: [UInt8](repeating: input.zeroPoint, count: u.inputChannels),
                multipliers: w.compress.weightScales.map { [input] in input.scale * $0 }, bias: w.compress.bias,
                outputScales: w.compressOutput.map(\.scale), outputZeroPoints: w.compressOutput.map(\.zeroPoint),
                outputs: mid, inputsPerGroup: u.inputChannels / u.firstConvGroups, groups: u.firstConvGroups)
            let destinations = c.groups > 1 ? c.shuffle.destinations(channels: mid, groups: c.groups) : Array(0..<mid)
            let depthwise = try QuantizedDepthwiseConvolution(
                kernel: depthwiseKernel, weights: w.depthwise.weights, inputZeroPoints: w.compressOutput.map(\.zeroPoint),
                multipliers: zip(w.compressOutput, w.depthwise.weightScales).map { $0.scale * $1 }, bias: w.depthwise.bias,
                outputScales: w.depthwiseOutput.map(\.scale), outputZeroPoints: w.depthwiseOutput.map(\.zeroPoint),
                destinations: destinations, channels: mid, inputGroups: u.firstConvGroups, groups: c.groups)
            // The expand reads the shuffled channels: input j is depthwise channel source[j], with its zero point.
            // Its weights already hold the depthwise output scales (inputScale 1 in the reference).
            var shuffledZeroPoints = [UInt8](repeating: 0, count: mid)
            for (j, d) in destinations.enumerated() { shuffledZeroPoints[d] = w.depthwiseOutput[j].zeroPoint }
            let expand = try QuantizedPointwiseConvolution(
                kernel: pointwiseKernel, weights: w.expand.weights, inputZeroPoints: shuffledZeroPoints,
                multipliers: w.expand.weightScales, bias: w.expand.bias, outputScales: [w.output.scale],
                outputZeroPoints: [w.output.zeroPoint], outputs: u.branchChannels, inputsPerGroup: mid / c.groups,
                groups: c.groups)
            units.append(Unit(plan: u, input: input, output: w.output, compress: compress, depthwise: depthwise, expand: expand,
                              branchInPlace: Self.branchFitsConcat(u, groups: c.groups)))
            input = w.output
        }
        self.units = units
        featuresOutput = q.featuresOutput
        if let recheck = q.recheck {
            classifier = .binary16(DenseLayer(halfWeights: recheck.classifier.weights, bias: recheck.classifier.bias,
                                              inputs: plan.finalChannels, outputs: c.numClasses))
        } else {
            classifier = .int8(try QuantizedDenseLayer(
                kernel: QuantizedDenseKernel.selected(for: kernels), weights: q.classifier.weights,
                inputZeroPoint: q.featuresOutput.zeroPoint,
                multipliers: q.classifier.weightScales.map { [featuresOutput = q.featuresOutput] in featuresOutput.scale * $0 },
                bias: q.classifier.bias, outputs: c.numClasses, inputs: plan.finalChannels))
        }
    }

    /// Whether a stride-2 unit's branch lands on whole blocks of the concat: the pooled channels fill whole blocks and
    /// so does each group's share of the branch (then the expand writes straight into the concat).
    static func branchFitsConcat(_ u: UnitPlan, groups: Int) -> Bool {
        u.inputChannels % 4 == 0 && (u.branchChannels / groups) % 4 == 0
    }

    /// The map of the last unit's output, which the global pool reads.
    var finalMap: ActivationQuantization { units.last?.output ?? stemOutput }
}

/// The `u8` buffers of an int8 inference, in channel blocks (`ChannelBlocks`), carved from one arena.
struct QuantizedBuffers {
    /// Unit inputs and outputs, alternating at stride-2 units (stride-1 units write over their input).
    let ping: UnsafeMutablePointer<UInt8>
    let pong: UnsafeMutablePointer<UInt8>
    /// The compress output (group-padded in the compress's groups) and the shuffled depthwise output.
    let bottleneckIn: UnsafeMutablePointer<UInt8>
    let bottleneckOut: UnsafeMutablePointer<UInt8>
    /// A stride-2 branch that cannot be written straight into the concat (`QuantizedLayers.Unit.branchInPlace`).
    let branch: UnsafeMutablePointer<UInt8>
    /// The pooled features as the classifier reads them.
    let codes: UnsafeMutablePointer<UInt8>
    private let scratchBase: UnsafeMutablePointer<UInt8>
    private let scratchBytes: Int
    private let arena: HugePageArena

    /// Each thread's scratch for the depthwise convolution's zero-point-bordered blocks.
    func scratch(_ thread: Int) -> UnsafeMutableBufferPointer<UInt8> {
        UnsafeMutableBufferPointer(start: scratchBase + thread * scratchBytes, count: scratchBytes)
    }

    init(plan: NetworkPlan, threads: Int) {
        let c = plan.configuration
        func blocks(_ channels: Int, groups: Int = 1) -> Int { groups * ((channels / groups + 3) / 4) }
        func bytes(_ channels: Int, groups: Int = 1, size: Int) -> Int {
            blocks(channels, groups: groups) * ChannelBlocks.blockBytes(size * size)
        }
        var activation = bytes(c.stemChannels, size: plan.poolOutputSize)
        var bottleneckIn = 0, bottleneckOut = 0, branch = 0, scratch = 0
        for u in plan.units {
            activation = max(activation, bytes(u.inputChannels, size: u.inputSize), bytes(u.outputChannels, size: u.outputSize))
            bottleneckIn = max(bottleneckIn, bytes(u.bottleneckChannels, groups: u.firstConvGroups, size: u.inputSize))
            bottleneckOut = max(bottleneckOut, bytes(u.bottleneckChannels, groups: c.groups, size: u.outputSize))
            if u.stride == 2 && !QuantizedLayers.branchFitsConcat(u, groups: c.groups) {
                branch = max(branch, bytes(u.branchChannels, groups: c.groups, size: u.outputSize))  // 0 when none needs it
            }
            scratch = max(scratch, QuantizedDepthwiseConvolution.scratchBytes(height: u.inputSize, width: u.inputSize))
        }
        func rounded(_ n: Int) -> Int { (n + 63) / 64 * 64 }
        scratchBytes = rounded(scratch)
        let sizes = [activation, activation, bottleneckIn, bottleneckOut, branch, plan.finalChannels, scratchBytes * threads].map(rounded)
        arena = HugePageArena(bytes: sizes.reduce(0, +))
        let base = arena.base.bindMemory(to: UInt8.self, capacity: arena.bytes)
        var offsets = [0]
        for size in sizes { offsets.append(offsets.last! + size) }
        ping = base + offsets[0]
        pong = base + offsets[1]
        self.bottleneckIn = base + offsets[2]
        self.bottleneckOut = base + offsets[3]
        self.branch = base + offsets[4]
        codes = base + offsets[5]
        scratchBase = base + offsets[6]
    }
}

extension ShuffleNetModel {
    /// The int8 inference (see `run`): conv1 and the max pool in fp32, in bands as the fp32 path does, each band
    /// quantized into channel blocks; then per unit three passes over the threads (compress; depthwise, which
    /// gathers its shuffled sources from any compress block, so it waits for all of them; expand with the pool of a
    /// stride-2 unit); the global pool; the classifier.
    func runQuantized(_ net: QuantizedLayers, input: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>,
                      workspace w: Workspace, features: UnsafeMutablePointer<Float>?, profile: LayerProfile?) {
        guard let b = w.quantized else { preconditionFailure("an int8 model's workspace has int8 buffers") }
        let pool = w.pool
        let c = configuration
        let kernels = self.kernels
        let poolSize = plan.poolOutputSize, stemPlaneStride = w.planeStride(poolSize)
        profile?.start()
        runStem(net.stem, input: input, workspace: w) { pooled in
            KernelCallError.trapOnFailure { () throws(KernelCallError) in
                try QuantizedPooling.quantize(planes: w.ping, planeStride: stemPlaneStride, channels: c.stemChannels,
                                              pixels: (pooled.lowerBound * poolSize)..<(pooled.upperBound * poolSize),
                                              map: net.stemOutput, output: b.ping,
                                              blockStride: ChannelBlocks.blockBytes(poolSize * poolSize), variant: kernels)
            }
        }
        profile?.record("conv1 + max pool", kind: .stem)
        var x = b.ping, y = b.pong
        for unit in net.units {
            let u = unit.plan
            let inPixels = u.inputSize * u.inputSize, outPixels = u.outputSize * u.outputSize
            let inStride = ChannelBlocks.blockBytes(inPixels), outStride = ChannelBlocks.blockBytes(outPixels)
            let source = x, destination = y
            let compressSlots = unit.compress.groups * unit.compress.paddedOutputsPerGroup
            pool.run(chunks: w.chunks(compressSlots)) { chunk, _ in
                KernelCallError.trapOnFailure { () throws(KernelCallError) in
                    try unit.compress.run(input: source, inputBlockStride: inStride, output: b.bottleneckIn, outputBlockStride: inStride,
                                          relu: true, pixels: inPixels, outputSlots: w.range(chunk, of: compressSlots))
                }
            }
            profile?.record("unit \(u.index) 1x1 gconv (compress)", kind: .pointwise)
            let depthwiseBlocks = unit.depthwise.outputBlocks
            pool.run(chunks: w.chunks(depthwiseBlocks, alignment: 1)) { chunk, thread in
                KernelCallError.trapOnFailure { () throws(KernelCallError) in
                    try unit.depthwise.run(input: b.bottleneckIn, inputBlockStride: inStride, output: b.bottleneckOut,
                                           outputBlockStride: outStride, height: u.inputSize, width: u.inputSize, stride: u.stride,
                                           scratch: b.scratch(thread), blocks: w.range(chunk, of: depthwiseBlocks, alignment: 1))
                }
            }
            profile?.record("unit \(u.index) 3x3 dwconv + shuffle", kind: .depthwise)
            let expandSlots = unit.expand.groups * unit.expand.paddedOutputsPerGroup
            let expandChunks = w.chunks(expandSlots)
            if u.stride == 1 {
                // Fig. 2b: ReLU(input + branch), written over the input (each block is read before it is written).
                pool.run(chunks: expandChunks) { chunk, _ in
                    KernelCallError.trapOnFailure { () throws(KernelCallError) in
                        try unit.expand.run(input: b.bottleneckOut, inputBlockStride: outStride, output: source, outputBlockStride: inStride,
                                            residual: (UnsafePointer(source), inStride, unit.input.zeroPoint, unit.input.scale), relu: true,
                                            pixels: outPixels, outputSlots: w.range(chunk, of: expandSlots))
                    }
                }
            } else {
                // Fig. 2c: concat(avg-pooled input, ReLU(branch)); the pool's chunks join the expand's pass.
                let poolBlocks = (u.inputChannels + 3) / 4, poolChunks = w.chunks(poolBlocks, alignment: 1)
                let branch = unit.branchInPlace ? destination + u.inputChannels / 4 * outStride : b.branch
                func expandOrPool(_ chunk: Int) {
                    KernelCallError.trapOnFailure { () throws(KernelCallError) in
                        if chunk < expandChunks {
                            try unit.expand.run(input: b.bottleneckOut, inputBlockStride: outStride, output: branch, outputBlockStride: outStride,
                                                relu: true, pixels: outPixels, outputSlots: w.range(chunk, of: expandSlots))
                        } else {
                            try QuantizedPooling.average3x3Stride2(
                                input: source, inputBlockStride: inStride, height: u.inputSize, width: u.inputSize, inputMap: unit.input,
                                output: destination, outputBlockStride: outStride, outputMap: unit.output,
                                blocks: w.range(chunk - expandChunks, of: poolBlocks, alignment: 1), variant: kernels)
                        }
                    }
                }
                if let profile {
                    // Profiling times the pool as its own pass (same kernels, same chunks).
                    pool.run(chunks: poolChunks) { chunk, _ in expandOrPool(expandChunks + chunk) }
                    profile.record("unit \(u.index) avgpool shortcut", kind: .pool)
                    pool.run(chunks: expandChunks) { chunk, _ in expandOrPool(chunk) }
                } else {
                    pool.run(chunks: expandChunks + poolChunks) { chunk, _ in expandOrPool(chunk) }
                }
                if !unit.branchInPlace {
                    // After the pool, which wrote whole blocks, the last one partly over the branch's first channels.
                    KernelCallError.trapOnFailure { () throws(KernelCallError) in
                        try QuantizedPooling.copyChannels(input: b.branch, inputBlockStride: outStride, groups: c.groups,
                                                          perGroup: u.branchChannels / c.groups, output: destination,
                                                          outputBlockStride: outStride, channelOffset: u.inputChannels, pixels: outPixels)
                    }
                }
                swap(&x, &y)
            }
            profile?.record("unit \(u.index) 1x1 gconv (expand)", kind: .pointwise)
        }
        let finalPixels = plan.finalSize * plan.finalSize
        KernelCallError.trapOnFailure { () throws(KernelCallError) in
            try QuantizedPooling.globalAverage(input: x, blockStride: ChannelBlocks.blockBytes(finalPixels), channels: plan.finalChannels,
                                               pixels: finalPixels, map: net.finalMap, features: w.features, codes: b.codes,
                                               codesMap: net.featuresOutput, variant: kernels)
        }
        profile?.record("global pool", kind: .pool)
        features?.update(from: w.features, count: plan.finalChannels)
        pool.run(chunks: w.chunks(c.numClasses)) { chunk, _ in
            switch net.classifier {
            case .int8(let dense):
                KernelCallError.trapOnFailure { () throws(KernelCallError) in
                    try dense.run(input: b.codes, output: logits, outputs: w.range(chunk, of: c.numClasses))
                }
            case .binary16(let dense):
                dense.run(input: w.features, output: logits, outputRange: w.range(chunk, of: c.numClasses), variant: kernels)
            }
        }
        profile?.record("classifier", kind: .classifier)
    }
}

/// Weights of either precision, as a file holds them: what `classify`, `bench --weights` and embedders load when they
/// do not care which (the `precision` metadata field decides; see Weights/README.md).
public enum NetworkWeights: Sendable {
    /// An fp32 file (`precision` absent or `fp32`).
    case fp32(ShuffleNetWeights)
    /// An int8 file (`precision: int8`, made by `shufflenet quantize`).
    case int8(QuantizedWeights)

    /// Loads and checks a weights file of either precision.
    public init(contentsOf path: String) throws(WeightsError) {
        try self.init(file: try SafeTensorsFile(contentsOf: path))
    }

    /// As `init(contentsOf:)`, from a parsed file.
    public init(file: SafeTensorsFile) throws(WeightsError) {
        if file.metadata[ShuffleNetWeights.MetadataKey.precision] == QuantizedWeights.precisionName {
            self = .int8(try QuantizedWeights(file: file))
        } else {
            self = .fp32(try ShuffleNetWeights(file: file))
        }
    }

    /// Which of the two.
    public var precision: Precision {
        switch self {
        case .fp32: .fp32
        case .int8: .int8
        }
    }

    /// The network the weights are for.
    public var configuration: ShuffleNetConfiguration {
        switch self {
        case .fp32(let w): w.configuration
        case .int8(let w): w.configuration
        }
    }

    /// The file's `__metadata__` (architecture, preprocessing, labels, and for int8 the calibration).
    public var metadata: [String: String] {
        switch self {
        case .fp32(let w): w.metadata
        case .int8(let w): w.metadata
        }
    }

    /// The fp32 weights, or nil for int8 ones.
    public var float32: ShuffleNetWeights? {
        if case .fp32(let w) = self { return w }
        return nil
    }
}

extension ShuffleNetModel {
    /// A model of the weights' precision.
    public convenience init(weights: NetworkWeights, inputSize: Int = 224) throws(ModelInputError) {
        switch weights {
        case .fp32(let w): try self.init(weights: w, inputSize: inputSize)
        case .int8(let w): try self.init(quantized: w, inputSize: inputSize)
        }
    }
}

extension KernelVariant {
    /// The int8 micro-kernels this cap selects (the stem stays fp32: `microKernels`' conv3x3s2 and pool).
    package var int8MicroKernels: [String] {
        [QuantizedPointwiseKernel.selected(for: self).name, QuantizedDepthwiseKernel.selected(for: self).name,
         QuantizedDenseKernel.selected(for: self).name]
    }
}
