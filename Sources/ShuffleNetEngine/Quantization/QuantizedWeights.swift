/// An int8 ShuffleNet v1 (`precision: int8`, Weights/README.md "int8 files"): BatchNorm folded, pointwise and
/// depthwise weights `s8` with per-channel scales, the activation maps calibrated by `shufflenet quantize`,
/// conv1 in fp32, the classifier `s8` on `u8` pooled features. See `ActivationQuantization` for the scheme.
///
/// Tensor names (all little-endian; `<u>` is the unit index as in the fp32 files):
///
///     first_conv.weight                 F32 [stem, 3, 3, 3]     conv1, BatchNorm folded
///     first_conv.bias                   F32 [stem]
///     first_conv.output_scale           F32 [1]                 after conv1, ReLU and the max pool
///     first_conv.output_zero_point      U8  [1]
///     features.<u>.compress.weight      I8  [mid, in/g1]        1x1 GConv, BN folded
///     features.<u>.compress.weight_scale F32 [mid]
///     features.<u>.compress.bias        F32 [mid]
///     features.<u>.compress.output_scale F32 [mid], .output_zero_point U8 [mid]   per channel, after its ReLU
///     features.<u>.depthwise.weight     I8  [mid, 3, 3]         3x3 DWConv, BN folded
///     features.<u>.depthwise.weight_scale, .bias, .output_scale [mid], .output_zero_point [mid]
///     features.<u>.expand.weight        I8  [branch, mid/g]     1x1 GConv, BN folded, input scales folded in
///     features.<u>.expand.weight_scale, .bias
///     features.<u>.output_scale / output_zero_point             the unit's output
///     pool.output_scale / output_zero_point                    the pooled features, as the classifier reads them
///     classifier.weight                 I8  [classes, C4]
///     classifier.weight_scale, .bias    F32 [classes]           (a bias always, see `classifier`)
///
/// Optionally (`quantize` writes them unless told not to), the fp32 network's weights at 16 bits for rechecking
/// near ties: `RecheckWeights`.
public struct QuantizedWeights: Sendable {
    /// The `precision` metadata value of these files.
    public static let precisionName = "int8"
    /// Metadata key: how the activation ranges were chosen (`CalibrationMethod`).
    public static let methodKey = "quantization_method"
    /// Metadata key: how the weights were rounded to codes (`WeightRounding`), informative.
    public static let roundingKey = "weight_rounding"
    /// Metadata key: how many photos calibrated the ranges.
    public static let calibrationImagesKey = "calibration_images"

    /// The network.
    public let configuration: ShuffleNetConfiguration
    /// Everything in `__metadata__` (architecture, `precision: int8`, labels, preprocessing, calibration).
    public let metadata: [String: String]
    /// conv1 with BatchNorm folded, `[stem][3][3][3]`.
    public let stemWeights: [Float]
    /// `[stem]`.
    public let stemBias: [Float]
    /// conv1's output after its ReLU and the max pool.
    public let stemOutput: ActivationQuantization
    /// The 16 units in network order.
    public let units: [QuantizedUnit]
    /// The pooled features as the classifier reads them (`u8`, one map).
    public let featuresOutput: ActivationQuantization
    /// `[classes][C4]`, with a bias even where the fp32 classifier has none (`classifier_bias: false`, as
    /// Megvii's): correcting the weights' rounding gives it one.
    public let classifier: QuantizedConvolution
    /// The fp32 network's weights at 16 bits, when the file has them (`RecheckWeights`).
    public let recheck: RecheckWeights?

    /// Every layer's shape.
    public var plan: NetworkPlan { NetworkPlan(configuration: configuration) }

    /// Checks every shape, range and map (the same checks as a file's).
    package init(configuration: ShuffleNetConfiguration, metadata: [String: String], stemWeights: [Float], stemBias: [Float],
                 stemOutput: ActivationQuantization, units: [QuantizedUnit], featuresOutput: ActivationQuantization,
                 classifier: QuantizedConvolution, recheck: RecheckWeights? = nil, source: String) throws(WeightsError) {
        self.configuration = configuration
        self.metadata = metadata.merging(ShuffleNetWeights.architectureMetadata(configuration, epsilon: 1e-5)) { _, new in new }
            .merging([ShuffleNetWeights.MetadataKey.precision: Self.precisionName]) { _, new in new }
        self.stemWeights = stemWeights
        self.stemBias = stemBias
        self.stemOutput = stemOutput
        self.units = units
        self.featuresOutput = featuresOutput
        self.classifier = classifier
        self.recheck = recheck
        try check(source: source)
    }

    /// Loads and checks an int8 file: metadata, every tensor's presence, dtype and shape, no extra tensor, finite
    /// values, positive scales, weights in -127...127.
    public init(contentsOf path: String) throws(WeightsError) {
        try self.init(file: try SafeTensorsFile(contentsOf: path))
    }

    /// As `init(contentsOf:)`, from a parsed file.
    public init(file: SafeTensorsFile) throws(WeightsError) {
        let path = file.path
        guard file.metadata[ShuffleNetWeights.MetadataKey.precision] == Self.precisionName else {
            throw WeightsError(path: path, "metadata precision is \"\(file.metadata[ShuffleNetWeights.MetadataKey.precision] ?? "fp32")\", not \"\(Self.precisionName)\"")
        }
        let (configuration, _) = try ShuffleNetWeights.architecture(metadata: file.metadata, path: path)
        let recheckLayout = RecheckWeights.tensorLayout(for: NetworkPlan(configuration: configuration))
        let hasRecheck = file.entries.contains { $0.name.hasSuffix(".recheck_weight") || $0.name.hasSuffix(".recheck_bias") }
        let layout = Self.tensorLayout(for: NetworkPlan(configuration: configuration))
            .merging(hasRecheck ? recheckLayout.map { ($0.name, ($0.dtype, $0.shape)) } : []) { a, _ in a }
        for entry in file.entries where layout[entry.name] == nil {
            throw WeightsError(path: path, "unexpected tensor \"\(entry.name)\" for int8 \(configuration)")
        }
        func entry(_ name: String) throws(WeightsError) -> SafeTensorsEntry {
            let (dtype, shape) = layout[name]!
            guard let e = file.entry(name) else {
                throw WeightsError(path: path, "missing tensor \"\(name)\" (\(dtype.rawValue) \(shape)) needed by int8 \(configuration)")
            }
            guard e.dtype == dtype, e.shape == shape else {
                throw WeightsError(path: path, "tensor \"\(name)\" is \(e.dtype.rawValue) \(e.shape), expected \(dtype.rawValue) \(shape)")
            }
            return e
        }
        func floats(_ name: String) throws(WeightsError) -> [Float] { try file.floats(try entry(name)) }
        func words(_ name: String) throws(WeightsError) -> [UInt16] { try file.words(try entry(name), as: .F16) }
        func int8s(_ name: String) throws(WeightsError) -> [Int8] { try file.bytes(try entry(name), as: .I8).map { Int8(bitPattern: $0) } }
        func maps(_ prefix: String) throws(WeightsError) -> [ActivationQuantization] {
            zip(try floats("\(prefix)output_scale"), try file.bytes(try entry("\(prefix)output_zero_point"), as: .U8)).map {
                ActivationQuantization(scale: $0, zeroPoint: $1)
            }
        }
        func map(_ prefix: String) throws(WeightsError) -> ActivationQuantization { try maps(prefix)[0] }
        func convolution(_ prefix: String) throws(WeightsError) -> QuantizedConvolution {
            QuantizedConvolution(weights: try int8s("\(prefix).weight"), weightScales: try floats("\(prefix).weight_scale"),
                                 bias: try floats("\(prefix).bias"))
        }
        var units: [QuantizedUnit] = []
        for u in NetworkPlan(configuration: configuration).units {
            let p = "features.\(u.index)"
            units.append(QuantizedUnit(compress: try convolution("\(p).compress"), depthwise: try convolution("\(p).depthwise"),
                                       expand: try convolution("\(p).expand"), compressOutput: try maps("\(p).compress."),
                                       depthwiseOutput: try maps("\(p).depthwise."), output: try map("\(p).")))
        }
        var recheck: RecheckWeights?
        if hasRecheck {
            func layer(_ prefix: String) throws(WeightsError) -> RecheckWeights.Layer {
                RecheckWeights.Layer(weights: try words("\(prefix).recheck_weight"), bias: try floats("\(prefix).recheck_bias"))
            }
            var recheckUnits: [RecheckWeights.Unit] = []
            for u in NetworkPlan(configuration: configuration).units {
                let p = "features.\(u.index)"
                recheckUnits.append(RecheckWeights.Unit(compress: try layer("\(p).compress"), depthwise: try layer("\(p).depthwise"),
                                                        expand: try layer("\(p).expand")))
            }
            recheck = RecheckWeights(units: recheckUnits, classifier: try layer("classifier"))
        }
        try self.init(configuration: configuration, metadata: file.metadata, stemWeights: try floats("first_conv.weight"),
                      stemBias: try floats("first_conv.bias"), stemOutput: try map("first_conv."), units: units,
                      featuresOutput: try map("pool."),
                      classifier: QuantizedConvolution(weights: try int8s("classifier.weight"), weightScales: try floats("classifier.weight_scale"),
                                                       bias: try floats("classifier.bias")),
                      recheck: recheck, source: path)
    }

    /// Every tensor of an int8 file with its dtype and shape.
    package static func tensorLayout(for plan: NetworkPlan) -> [String: (SafeTensorsDType, [Int])] {
        orderedTensorLayout(for: plan).reduce(into: [:]) { $0[$1.name] = ($1.dtype, $1.shape) }
    }

    /// As `tensorLayout`, in file order.
    package static func orderedTensorLayout(for plan: NetworkPlan) -> [(name: String, dtype: SafeTensorsDType, shape: [Int])] {
        let c = plan.configuration
        var list: [(String, SafeTensorsDType, [Int])] = [
            ("first_conv.weight", .F32, [c.stemChannels, 3, 3, 3]), ("first_conv.bias", .F32, [c.stemChannels]),
            ("first_conv.output_scale", .F32, [1]), ("first_conv.output_zero_point", .U8, [1]),
        ]
        func convolution(_ prefix: String, _ outputs: Int, _ shape: [Int], map: Bool) {
            list += [("\(prefix).weight", .I8, [outputs] + shape), ("\(prefix).weight_scale", .F32, [outputs]),
                     ("\(prefix).bias", .F32, [outputs])]
            if map { list += [("\(prefix).output_scale", .F32, [outputs]), ("\(prefix).output_zero_point", .U8, [outputs])] }
        }
        for u in plan.units {
            let p = "features.\(u.index)"
            convolution("\(p).compress", u.bottleneckChannels, [u.inputChannels / u.firstConvGroups], map: true)
            convolution("\(p).depthwise", u.bottleneckChannels, [3, 3], map: true)
            convolution("\(p).expand", u.branchChannels, [u.bottleneckChannels / c.groups], map: false)
            list += [("\(p).output_scale", .F32, [1]), ("\(p).output_zero_point", .U8, [1])]
        }
        list += [("pool.output_scale", .F32, [1]), ("pool.output_zero_point", .U8, [1])]
        convolution("classifier", c.numClasses, [plan.finalChannels], map: false)
        return list
    }

    /// The safetensors file, tensors in network order.
    public func safeTensors() -> SafeTensorsWriter {
        var writer = SafeTensorsWriter(metadata: metadata)
        func maps(_ prefix: String, _ m: [ActivationQuantization]) {
            writer.add("\(prefix)output_scale", shape: [m.count], values: m.map(\.scale))
            writer.add("\(prefix)output_zero_point", shape: [m.count], uint8: m.map(\.zeroPoint))
        }
        func map(_ prefix: String, _ m: ActivationQuantization) { maps(prefix, [m]) }
        func convolution(_ prefix: String, _ layer: QuantizedConvolution, _ shape: [Int]) {
            writer.add("\(prefix).weight", shape: [layer.outputs] + shape, int8: layer.weights)
            writer.add("\(prefix).weight_scale", shape: [layer.outputs], values: layer.weightScales)
            writer.add("\(prefix).bias", shape: [layer.outputs], values: layer.bias)
        }
        let c = configuration
        writer.add("first_conv.weight", shape: [c.stemChannels, 3, 3, 3], values: stemWeights)
        writer.add("first_conv.bias", shape: [c.stemChannels], values: stemBias)
        map("first_conv.", stemOutput)
        for (u, unit) in zip(plan.units, units) {
            let p = "features.\(u.index)"
            convolution("\(p).compress", unit.compress, [u.inputChannels / u.firstConvGroups])
            maps("\(p).compress.", unit.compressOutput)
            convolution("\(p).depthwise", unit.depthwise, [3, 3])
            maps("\(p).depthwise.", unit.depthwiseOutput)
            convolution("\(p).expand", unit.expand, [u.bottleneckChannels / c.groups])
            map("\(p).", unit.output)
        }
        map("pool.", featuresOutput)
        convolution("classifier", classifier, [plan.finalChannels])
        if let recheck {
            // Same order as `RecheckWeights.tensorLayout`: each unit's three layers, then the classifier.
            let layers = recheck.units.flatMap { [$0.compress, $0.depthwise, $0.expand] } + [recheck.classifier]
            let names = RecheckWeights.tensorLayout(for: plan)
            for (i, layer) in layers.enumerated() {
                writer.add(names[2 * i].name, shape: names[2 * i].shape, float16Bits: layer.weights)
                writer.add(names[2 * i + 1].name, shape: names[2 * i + 1].shape, values: layer.bias)
            }
        }
        return writer
    }

    private func check(source: String) throws(WeightsError) {
        let plan = self.plan
        let c = configuration
        func floats(_ name: String, _ values: [Float], count: Int) throws(WeightsError) {
            guard values.count == count else { throw WeightsError(path: source, "tensor \"\(name)\" has \(values.count) values, expected \(count)") }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw WeightsError(path: source, "tensor \"\(name)\" holds a non-finite value (\(values[bad])) at element \(bad)")
            }
        }
        func map(_ name: String, _ m: ActivationQuantization) throws(WeightsError) {
            guard m.scale.isFinite, m.scale > 0 else { throw WeightsError(path: source, "\(name)output_scale must be positive and finite (got \(m.scale))") }
        }
        func maps(_ name: String, _ m: [ActivationQuantization], count: Int) throws(WeightsError) {
            guard m.count == count else { throw WeightsError(path: source, "\(name)output_scale has \(m.count) values, expected \(count)") }
            for one in m { try map(name, one) }
        }
        func convolution(_ name: String, _ layer: QuantizedConvolution, outputs: Int, perOutput: Int) throws(WeightsError) {
            guard layer.weights.count == outputs * perOutput else {
                throw WeightsError(path: source, "tensor \"\(name).weight\" has \(layer.weights.count) values, expected \(outputs * perOutput)")
            }
            if let bad = layer.weights.firstIndex(of: -128) {
                throw WeightsError(path: source, "tensor \"\(name).weight\" holds -128 at element \(bad); int8 weights are -127...127 (the accumulator bound relies on it)")
            }
            try floats("\(name).weight_scale", layer.weightScales, count: outputs)
            if let bad = layer.weightScales.firstIndex(where: { $0 <= 0 }) {
                throw WeightsError(path: source, "tensor \"\(name).weight_scale\" holds a scale that is not positive (\(layer.weightScales[bad])) at element \(bad)")
            }
            try floats("\(name).bias", layer.bias, count: outputs)
        }
        try floats("first_conv.weight", stemWeights, count: c.stemChannels * 27)
        try floats("first_conv.bias", stemBias, count: c.stemChannels)
        try map("first_conv.", stemOutput)
        guard units.count == plan.units.count else { throw WeightsError(path: source, "\(units.count) units, expected \(plan.units.count)") }
        for (u, unit) in zip(plan.units, units) {
            let p = "features.\(u.index)"
            try convolution("\(p).compress", unit.compress, outputs: u.bottleneckChannels, perOutput: u.inputChannels / u.firstConvGroups)
            try convolution("\(p).depthwise", unit.depthwise, outputs: u.bottleneckChannels, perOutput: 9)
            try convolution("\(p).expand", unit.expand, outputs: u.branchChannels, perOutput: u.bottleneckChannels / c.groups)
            try maps("\(p).compress.", unit.compressOutput, count: u.bottleneckChannels)
            try maps("\(p).depthwise.", unit.depthwiseOutput, count: u.bottleneckChannels)
            try map("\(p).", unit.output)
        }
        try map("pool.", featuresOutput)
        try convolution("classifier", classifier, outputs: c.numClasses, perOutput: plan.finalChannels)
        if let recheck {
            guard recheck.units.count == plan.units.count else {
                throw WeightsError(path: source, "recheck weights for \(recheck.units.count) units, expected \(plan.units.count)")
            }
            let layers = recheck.units.flatMap { [$0.compress, $0.depthwise, $0.expand] } + [recheck.classifier]
            let names = RecheckWeights.tensorLayout(for: plan)
            for (i, layer) in layers.enumerated() {
                let (weightName, biasName) = (names[2 * i].name, names[2 * i + 1].name)
                let expected = names[2 * i].shape.reduce(1, *)
                guard layer.weights.count == expected else {
                    throw WeightsError(path: source, "tensor \"\(weightName)\" has \(layer.weights.count) values, expected \(expected)")
                }
                if let bad = layer.firstNonFiniteWeight {
                    throw WeightsError(path: source, "tensor \"\(weightName)\" holds a non-finite value at element \(bad)")
                }
                try floats(biasName, layer.bias, count: names[2 * i + 1].shape[0])
            }
        }
    }
}
