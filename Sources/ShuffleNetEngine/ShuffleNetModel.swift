/// ShuffleNet v1 ready to run: BatchNorm folded into the convolutions, the channel shuffle folded into where
/// the depthwise convolution stores its channels, and every buffer size planned once. Immutable and
/// shareable across threads; each thread runs it with its own `Workspace`. Made from fp32 weights
/// (`ShuffleNetWeights`) or int8 ones (`QuantizedWeights`); both run through the same calls.
public final class ShuffleNetModel: Sendable {
    /// The fp32 network's layers.
    struct Float32Layers: Sendable {
        let stem: StemConvolution
        let units: [Unit]
        let classifier: DenseLayer
    }
    enum Layers: Sendable {
        case fp32(Float32Layers)
        case int8(QuantizedLayers)
    }

    struct Unit: Sendable {
        let plan: UnitPlan
        let compress: PointwiseConvolution      // 1x1 GConv + BN + ReLU
        let depthwise: DepthwiseConvolution3x3  // 3x3 DWConv + BN, storing shuffled
        let expand: PointwiseConvolution        // 1x1 GConv + BN (+ residual) + ReLU
        let shortcut: AveragePool3x3Stride2?    // 3x3 average pool for stride 2
    }

    /// Every layer's shape for this input size.
    public let plan: NetworkPlan
    /// The network's widths, groups and classes.
    public var configuration: ShuffleNetConfiguration { plan.configuration }
    let layers: Layers

    /// fp32 or int8, from the weights the model was made from.
    public var precision: Precision {
        switch layers {
        case .fp32: .fp32
        case .int8: .int8
        }
    }

    /// Plans the network for square inputs of `inputSize` pixels (224 for the published weights) and folds the
    /// weights. The weights' shapes were checked when `weights` was made; `inputSize` must be in
    /// `ShuffleNetModel.inputSizes`.
    public convenience init(weights: ShuffleNetWeights, inputSize: Int = 224) throws(ModelInputError) {
        try self.init(weights: weights, inputSize: inputSize, kernels: .active)
    }

    /// The kernel variant every layer of this model runs (`KernelVariant.active` outside tests).
    package let kernels: KernelVariant

    /// A model pinned to `kernels` (which must be supported by this CPU): every layer runs that variant's
    /// configuration set, and the weights are packed for its micro-kernels. Tests run the whole network on every
    /// variant this way.
    package convenience init(weights: ShuffleNetWeights, inputSize: Int = 224, kernels: KernelVariant) throws(ModelInputError) {
        try self.init(folded: FoldedNetwork(weights: weights), inputSize: inputSize, kernels: kernels)
    }

    /// The fp32 network an int8 answer near a tie is recomputed with (`ImageClassifier`'s `Int8Recheck`): conv1 as
    /// the int8 file stores it, every other layer from the fp32 network's own weights at 16 bits (`RecheckWeights`),
    /// every activation fp32. nil when `weights` carry no recheck weights.
    ///
    /// - Throws: `ModelInputError.inputSize` for a size outside `inputSizes`.
    public convenience init?(rechecking weights: QuantizedWeights, inputSize: Int = 224) throws(ModelInputError) {
        guard let recheck = weights.recheck else { return nil }
        // One unit's weights at a time in fp32: only the packed copies stay.
        try self.init(configuration: weights.configuration, stem: (weights.stemWeights, weights.stemBias), unit: { u in
            let r = recheck.units[u.index]
            return FoldedNetwork.Unit(compress: (r.compress.floatWeights, r.compress.bias),
                                      depthwise: (r.depthwise.floatWeights, r.depthwise.bias),
                                      expand: (r.expand.floatWeights, r.expand.bias))
        }, classifier: DenseLayer(halfWeights: recheck.classifier.weights, bias: recheck.classifier.bias,
                                  inputs: weights.plan.finalChannels, outputs: weights.configuration.numClasses),
        inputSize: inputSize, kernels: .active)
    }

    /// The fp32 layers of a network whose BatchNorm is already folded (`FoldedNetwork`), packed for `kernels`.
    package convenience init(folded network: FoldedNetwork, inputSize: Int, kernels: KernelVariant) throws(ModelInputError) {
        try self.init(configuration: network.plan.configuration, stem: network.stem, unit: { network.units[$0.index] },
                      classifier: DenseLayer(weights: network.classifierWeights, bias: network.classifierBias,
                                             inputs: network.plan.finalChannels, outputs: network.plan.configuration.numClasses),
                      inputSize: inputSize, kernels: kernels)
    }

    /// The fp32 layers packed for `kernels`, BatchNorm already folded; `unit(u)` gives unit `u`'s folded weights when
    /// they are packed (once per unit, in order), so a caller converting them need not hold all at once.
    package init(configuration: ShuffleNetConfiguration, stem folded: FoldedLayerWeights,
                 unit: (UnitPlan) -> FoldedNetwork.Unit, classifier: DenseLayer,
                 inputSize: Int, kernels: KernelVariant) throws(ModelInputError) {
        precondition(kernels.isSupported, "the \(kernels) kernels cannot run on this CPU")
        self.kernels = kernels
        guard Self.inputSizes.contains(inputSize) else {
            throw .inputSize(inputSize, allowed: Self.inputSizes)
        }
        let plan = NetworkPlan(configuration: configuration, inputSize: inputSize)
        self.plan = plan
        let c = plan.configuration
        let stem = StemConvolution(weights: folded.weights, bias: folded.bias, inputChannels: 3,
                                   outputChannels: c.stemChannels, kernels: kernels)
        let units = plan.units.map { u in
            let folded = unit(u)
            let (a, d, e) = (folded.compress, folded.depthwise, folded.expand)
            let shuffle = c.groups > 1 ? c.shuffle.destinations(channels: u.bottleneckChannels, groups: c.groups) : nil
            return Unit(
                plan: u,
                compress: PointwiseConvolution(weights: a.weights, bias: a.bias, inputChannels: u.inputChannels,
                                               outputChannels: u.bottleneckChannels, groups: u.firstConvGroups, kernels: kernels),
                depthwise: DepthwiseConvolution3x3(weights: d.weights, bias: d.bias, channels: u.bottleneckChannels,
                                                   stride: u.stride, destinations: shuffle),
                expand: PointwiseConvolution(weights: e.weights, bias: e.bias, inputChannels: u.bottleneckChannels,
                                             outputChannels: u.branchChannels, groups: c.groups, kernels: kernels),
                shortcut: u.stride == 2 ? Pooling.average3x3Stride2(channels: u.inputChannels) : nil)
        }
        layers = .fp32(Float32Layers(stem: stem, units: units, classifier: classifier))
    }

    /// Plans the int8 network for square inputs of `inputSize` pixels and packs its weights (checked completely when
    /// `weights` was loaded).
    ///
    /// - Throws: `ModelInputError.inputSize` for a size outside `inputSizes`, `.unpackableWeights` when a layer's
    ///   numbers cannot be computed exactly by the kernels (e.g. an activation scale so small its inverse is infinite).
    public convenience init(quantized weights: QuantizedWeights, inputSize: Int = 224) throws(ModelInputError) {
        try self.init(quantized: weights, inputSize: inputSize, kernels: .active)
    }

    /// An int8 model pinned to `kernels` (which must be supported by this CPU), as `init(weights:inputSize:kernels:)`.
    package init(quantized weights: QuantizedWeights, inputSize: Int = 224, kernels: KernelVariant) throws(ModelInputError) {
        precondition(kernels.isSupported, "the \(kernels) kernels cannot run on this CPU")
        self.kernels = kernels
        guard Self.inputSizes.contains(inputSize) else {
            throw .inputSize(inputSize, allowed: Self.inputSizes)
        }
        plan = NetworkPlan(configuration: weights.configuration, inputSize: inputSize)
        do {
            layers = .int8(try QuantizedLayers(weights: weights, plan: plan, kernels: kernels))
        } catch {
            throw .unpackableWeights("\(error)")
        }
    }

    /// `w' = w * gamma / sqrt(var + eps)`, `b' = beta - mean * gamma / sqrt(var + eps)` per output channel
    /// (BatchNorm in inference mode is an affine map, so it merges into the convolution before it).
    static func foldBatchNorm(weights: [Float], outputs: Int, gamma: [Float], beta: [Float], mean: [Float],
                              variance: [Float], epsilon: Float) -> (weights: [Float], bias: [Float]) {
        let perOutput = weights.count / outputs
        var w = weights
        var b = [Float](repeating: 0, count: outputs)
        for o in 0..<outputs {
            let scale = Double(gamma[o]) / (Double(variance[o]) + Double(epsilon)).squareRoot()
            for i in 0..<perOutput { w[o * perOutput + i] = Float(Double(weights[o * perOutput + i]) * scale) }
            b[o] = Float(Double(beta[o]) - Double(mean[o]) * scale)
        }
        return (w, b)
    }

    /// The input sizes a model can be planned for: from 1 pixel (every stride-2 layer keeps at least one) to 4096
    /// (the activations of a larger input would take gigabytes).
    public static let inputSizes: ClosedRange<Int> = 1...4096

    /// Floats in one input image, `3 * inputSize * inputSize`.
    public var inputCount: Int { 3 * plan.inputSize * plan.inputSize }

    /// Buffers for one inference at a time; with `threads > 1` each layer is split over that many threads
    /// (values below 1 mean 1).
    public func makeWorkspace(threads: Int = 1) -> Workspace { Workspace(plan: plan, precision: precision, threads: threads) }

    /// A one-thread workspace in ordinary pages rather than huge ones: its resident memory is what it uses, not
    /// whole 2 MB pages (about 1.5 MB less at 0.5x g8), for a network run now and then (the int8 recheck).
    package func makeCompactWorkspace() -> Workspace {
        Workspace(plan: plan, precision: precision, threads: 1, hugePages: false)
    }

    /// Logits for one image given as `[3][inputSize][inputSize]` floats, preprocessed as the weights expect.
    ///
    /// - Throws: `ModelInputError` when `input` does not hold exactly `inputCount` floats or `workspace` was
    ///   made by a model with another plan.
    public func logits(for input: [Float], workspace: Workspace? = nil) throws(ModelInputError) -> [Float] {
        var logits = [Float](repeating: 0, count: configuration.numClasses)
        try input.withUnsafeBufferPointer { x throws(ModelInputError) in
            try logits.withUnsafeMutableBufferPointer { y throws(ModelInputError) in
                try self.logits(for: x, into: y, workspace: workspace)
            }
        }
        return logits
    }

    /// The allocation-free inference path for callers that own their buffers: reads `inputCount` floats from
    /// `input` and writes `configuration.numClasses` logits into `logits`.
    ///
    /// - Throws: `ModelInputError` when a buffer has the wrong size or `workspace` was made by a model with
    ///   another plan.
    public func logits(for input: UnsafeBufferPointer<Float>, into logits: UnsafeMutableBufferPointer<Float>,
                       workspace: Workspace? = nil) throws(ModelInputError) {
        guard input.count == inputCount, let x = input.baseAddress else {
            throw .inputCount(expected: inputCount, actual: input.count)
        }
        guard logits.count == configuration.numClasses, let y = logits.baseAddress else {
            throw .outputCount(expected: configuration.numClasses, actual: logits.count)
        }
        if let workspace, workspace.plan != plan || workspace.precision != precision {
            throw .workspaceMismatch(workspaceInputSize: workspace.plan.inputSize,
                                     workspaceConfiguration: "\(workspace.precision) \(workspace.plan.configuration)",
                                     modelInputSize: plan.inputSize, modelConfiguration: "\(precision) \(configuration)")
        }
        run(input: x, logits: y, workspace: workspace ?? makeWorkspace())
    }

    /// The unchecked inference path: reads `3 * inputSize^2` floats, writes `numClasses` logits, with a
    /// workspace made by this model. Every layer is split into chunks of channels shared by the workspace's
    /// threads. With `features`, also copies the globally pooled features (the classifier's input,
    /// `plan.finalChannels` floats) there. Inside the package only (the batch runner, the benchmark and the
    /// feature extractor size their buffers from the plan).
    package func run(input: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>, workspace: Workspace,
                     features: UnsafeMutablePointer<Float>? = nil, profile: LayerProfile? = nil) {
        precondition(workspace.plan == plan && workspace.precision == precision, "a workspace is only valid for the model that made it")
        switch layers {
        case .fp32(let layers):
            runFloat32(layers, input: input, logits: logits, workspace: workspace, features: features, profile: profile)
        case .int8(let layers):
            runQuantized(layers, input: input, logits: logits, workspace: workspace, features: features, profile: profile)
        }
    }

    /// conv1 and the max pool into `w.ping` (planes of `w.planeStride(poolOutputSize)` floats), in bands of pooled
    /// rows: each band's conv1 rows (2 per pooled row, plus the one above) go to the thread's scratch and are pooled
    /// while still in cache. The whole conv1 output would be 1.2 MB at 1x, more than L2, and the pool would read it
    /// back from L3; the shared rows between bands (1 in 15) are computed twice instead. `afterBand(pooledRows)`
    /// runs on the band's thread once its rows are pooled (the int8 path quantizes them there, still in cache).
    func runStem(_ stem: StemConvolution, input: UnsafePointer<Float>, workspace w: Workspace,
                 afterBand: (Range<Int>) -> Void = { _ in }) {
        let c = configuration, kernels = self.kernels
        let inSize = plan.inputSize, stemSize = plan.stemOutputSize
        let poolSize = plan.poolOutputSize, bandRows = w.stemBandRows
        w.pool.run(chunks: (poolSize + bandRows - 1) / bandRows) { band, thread in
            let pooled = (band * bandRows)..<min(poolSize, (band + 1) * bandRows)
            let convRows = max(2 * pooled.lowerBound - 1, 0)..<min(2 * pooled.upperBound, stemSize)
            let scratch = w.scratch(thread), bandPlane = w.stemBandPlane
            stem.run(input: input, inputPlaneStride: inSize * inSize, height: inSize, width: inSize, output: scratch,
                     outputPlaneStride: bandPlane, rows: convRows, outputRowBase: convRows.lowerBound, variant: kernels)
            Pooling.max3x3Stride2(input: scratch, inputPlaneStride: bandPlane, inputRowBase: convRows.lowerBound,
                                  channels: c.stemChannels, height: stemSize, width: stemSize, output: w.ping,
                                  outputPlaneStride: w.planeStride(poolSize), rows: pooled, variant: kernels)
            afterBand(pooled)
        }
    }

    /// The fp32 inference (see `run`).
    private func runFloat32(_ net: Float32Layers, input: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>,
                            workspace: Workspace, features: UnsafeMutablePointer<Float>?, profile: LayerProfile?) {
        let w = workspace
        let stem = net.stem, units = net.units, classifier = net.classifier
        let pool = w.pool
        let c = configuration
        profile?.start()
        runStem(stem, input: input, workspace: w)
        profile?.record("conv1 + max pool", kind: .stem)
        var x = w.ping, y = w.pong
        for unit in units {
            let u = unit.plan
            let inStride = w.planeStride(u.inputSize), outStride = w.planeStride(u.outputSize)
            let source = x, destination = y
            func compress(_ channels: Range<Int>) {
                unit.compress.run(input: source, inputPlaneStride: inStride, output: w.bottleneckIn, outputPlaneStride: inStride,
                                  pixels: u.inputSize * u.inputSize, epilogue: .relu, outputs: channels, variant: kernels)
            }
            func depthwise(_ channels: Range<Int>, _ thread: Int) {
                unit.depthwise.run(input: w.bottleneckIn, inputPlaneStride: inStride, height: u.inputSize, width: u.inputSize,
                                   output: w.bottleneckOut, outputPlaneStride: outStride, scratch: w.scratch(thread),
                                   channelRange: channels, variant: kernels)
            }
            func expand(_ channels: Range<Int>) {
                if unit.shortcut != nil {
                    // Fig. 2c: concat(avg-pooled input, ReLU(branch)): the branch fills the channels after the pool's.
                    unit.expand.run(input: w.bottleneckOut, inputPlaneStride: outStride,
                                    output: destination + u.inputChannels * outStride, outputPlaneStride: outStride,
                                    pixels: u.outputSize * u.outputSize, epilogue: .relu, outputs: channels, variant: kernels)
                } else {
                    // Fig. 2b: ReLU(input + branch), written over the input: each value is read as the residual and
                    // replaced by the same thread, and the cache lines it writes are the ones it just read (a
                    // separate output buffer would cost a third more L2 traffic for these low-K convolutions).
                    unit.expand.run(input: w.bottleneckOut, inputPlaneStride: outStride, output: source, outputPlaneStride: inStride,
                                    pixels: u.outputSize * u.outputSize,
                                    epilogue: .addResidualThenReLU(UnsafePointer(source), planeStride: inStride),
                                    outputs: channels, variant: kernels)
                }
            }
            func shortcut(_ channels: Range<Int>) {
                unit.shortcut?.run(input: source, inputPlaneStride: inStride, height: u.inputSize, width: u.inputSize,
                                   output: destination, outputPlaneStride: outStride, channelRange: channels, variant: kernels)
            }
            let bottleneckChunks = w.chunks(u.bottleneckChannels), expandChunks = w.chunks(u.branchChannels)
            let poolChunks = unit.shortcut == nil ? 0 : w.chunks(u.inputChannels, alignment: 1)
            if let profile {
                // Profiling times every operation as its own pass (same kernels, same chunks).
                pool.run(chunks: bottleneckChunks) { chunk, _ in compress(w.range(chunk, of: u.bottleneckChannels)) }
                profile.record("unit \(u.index) 1x1 gconv (compress)", kind: .pointwise)
                pool.run(chunks: bottleneckChunks) { chunk, thread in depthwise(w.range(chunk, of: u.bottleneckChannels), thread) }
                profile.record("unit \(u.index) 3x3 dwconv + shuffle", kind: .depthwise)
                if poolChunks > 0 {
                    pool.run(chunks: poolChunks) { chunk, _ in shortcut(w.range(chunk, of: u.inputChannels, alignment: 1)) }
                    profile.record("unit \(u.index) avgpool shortcut", kind: .pool)
                }
                pool.run(chunks: expandChunks) { chunk, _ in expand(w.range(chunk, of: u.branchChannels)) }
            } else {
                // Two passes per unit, so threads meet twice per unit, not four times: depthwise channel c needs only
                // compress output c, so the thread that computes a chunk of compress outputs convolves them too; the
                // shortcut pool is independent of the branch, so its chunks join the expand pass.
                pool.run(chunks: bottleneckChunks) { chunk, thread in
                    let channels = w.range(chunk, of: u.bottleneckChannels)
                    compress(channels)
                    depthwise(channels, thread)
                }
                pool.run(chunks: expandChunks + poolChunks) { chunk, _ in
                    if chunk < expandChunks {
                        expand(w.range(chunk, of: u.branchChannels))
                    } else {
                        shortcut(w.range(chunk - expandChunks, of: u.inputChannels, alignment: 1))
                    }
                }
            }
            profile?.record("unit \(u.index) 1x1 gconv (expand)", kind: .pointwise)
            if unit.shortcut != nil { swap(&x, &y) }  // stride 1 left its output in place
        }
        Pooling.globalAverage(input: x, planeStride: w.planeStride(plan.finalSize), channels: plan.finalChannels,
                              pixels: plan.finalSize * plan.finalSize, output: w.features)
        profile?.record("global pool", kind: .pool)
        features?.update(from: w.features, count: plan.finalChannels)
        pool.run(chunks: w.chunks(c.numClasses)) { chunk, _ in
            classifier.run(input: w.features, output: logits, outputRange: w.range(chunk, of: c.numClasses), variant: kernels)
        }
        profile?.record("classifier", kind: .classifier)
    }
}

/// Every buffer one inference needs, sized once from the plan, and the threads that share each layer.
/// Not shareable between inferences running at the same time; cheap to keep one per concurrent caller.
public final class Workspace: @unchecked Sendable {
    /// The plan of the model that made it: buffers are sized for that plan only.
    package let plan: NetworkPlan
    /// The precision of the model that made it (an int8 workspace has `u8` activations and no fp32 ones).
    package let precision: Precision
    /// The int8 activations, for an int8 model.
    let quantized: QuantizedBuffers?
    package let pool: WorkerPool
    /// Pooled rows per band of the fused conv1 + max pool, and the floats of one channel's conv1 rows for a band.
    let stemBandRows: Int
    let stemBandPlane: Int
    let ping: UnsafeMutablePointer<Float>
    let pong: UnsafeMutablePointer<Float>
    let bottleneckIn: UnsafeMutablePointer<Float>
    let bottleneckOut: UnsafeMutablePointer<Float>
    let features: UnsafeMutablePointer<Float>
    private let scratchBase: UnsafeMutablePointer<Float>
    private let scratchCount: Int
    private let arena: HugePageArena

    /// Planes are padded to a multiple of 16 floats (see `planeAlignment`).
    func planeStride(_ size: Int) -> Int { roundUpToVector(size * size) }

    /// Each thread's own scratch (conv1's band of rows; the zero-bordered planes of the depthwise convolutions).
    func scratch(_ thread: Int) -> UnsafeMutablePointer<Float> { scratchBase + thread * scratchCount }

    /// Chunks to split `count` channels into: two per thread (fewer hand-offs than more, measured 7-9% faster
    /// at batch 1 on 2 threads than four; a busy core is handled by yielding in `WorkerPool`), each at
    /// least `alignment` channels (4 by default, so a chunk holds whole blocks of the smaller pointwise row counts).
    func chunks(_ count: Int, alignment: Int = 4) -> Int {
        pool.threadCount == 1 ? 1 : min(2 * pool.threadCount, max(1, count / alignment))
    }

    /// Channels of chunk `index` when `count` channels are split into `chunks(count, alignment:)` chunks,
    /// boundaries on multiples of `alignment`.
    func range(_ index: Int, of count: Int, alignment: Int = 4) -> Range<Int> {
        let n = chunks(count, alignment: alignment)
        func boundary(_ i: Int) -> Int { i == n ? count : min(count, (count * i / n) / alignment * alignment) }
        return boundary(index)..<boundary(index + 1)
    }

    init(plan: NetworkPlan, precision: Precision = .fp32, threads: Int = 1, hugePages: Bool = true) {
        self.plan = plan
        self.precision = precision
        pool = WorkerPool(threads: threads)
        let int8 = precision == .int8
        quantized = int8 ? QuantizedBuffers(plan: plan, threads: pool.threadCount) : nil
        let c = plan.configuration
        // 8 bands: 7 pooled rows each at 224x224, an even split for 2 threads.
        stemBandRows = max(1, (plan.poolOutputSize + 7) / 8)
        stemBandPlane = roundUpToVector((2 * stemBandRows + 1) * plan.stemOutputSize)
        var activation = c.stemChannels * roundUpToVector(plan.poolOutputSize * plan.poolOutputSize)
        var bottleneck = 0
        var scratchCount = c.stemChannels * stemBandPlane
        // An int8 workspace keeps only conv1's fp32 buffers here: its band scratch and the pooled planes (in `ping`)
        // that are quantized into `quantized.ping`; the units run on `u8` blocks.
        for u in plan.units where !int8 {
            let inPlane = roundUpToVector(u.inputSize * u.inputSize)
            activation = max(activation, u.inputChannels * inPlane, u.outputChannels * roundUpToVector(u.outputSize * u.outputSize))
            bottleneck = max(bottleneck, u.bottleneckChannels * inPlane)
            scratchCount = max(scratchCount, DepthwiseConvolution3x3.scratchCount(height: u.inputSize, width: u.inputSize))
        }
        self.scratchCount = roundUpToVector(scratchCount)
        // All buffers in one zero-filled arena (huge pages where the OS gives them), carved in this order; the zeros
        // give the padding of every plane finite values from the start.
        let second = int8 ? 0 : activation
        let counts = [activation, second, bottleneck, bottleneck, self.scratchCount * pool.threadCount,
                      roundUpToVector(plan.finalChannels)].map(roundUpToVector)
        let floats = counts.reduce(0, +)
        let arena = HugePageArena(bytes: floats * MemoryLayout<Float>.stride, hugePages: hugePages)
        self.arena = arena
        var next = arena.base.bindMemory(to: Float.self, capacity: floats)
        func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
            defer { next += roundUpToVector(count) }
            return next
        }
        ping = allocate(activation)
        pong = allocate(second)
        bottleneckIn = allocate(bottleneck)
        bottleneckOut = allocate(bottleneck)
        scratchBase = allocate(self.scratchCount * pool.threadCount)
        features = allocate(roundUpToVector(plan.finalChannels))
    }
}
