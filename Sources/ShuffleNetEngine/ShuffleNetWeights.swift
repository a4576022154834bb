/// The learned tensors of one ShuffleNet v1, by their documented names (Weights/README.md), unfolded
/// (convolutions and BatchNorm kept apart, as trained), plus the metadata stored with them.
///
/// Names follow Megvii's `network.py` (without DataParallel's `module.` prefix) so the file stays
/// readable by anyone who knows that code:
///
///     first_conv.0.weight                      [stem, 3, 3, 3]      conv1
///     first_conv.1.{weight,bias,running_mean,running_var}           its BatchNorm
///     features.<u>.branch_main_1.0.weight      [mid, in/g1, 1, 1]   1x1 group conv (g1 = 1 for unit 0)
///     features.<u>.branch_main_1.1.*           BatchNorm
///     features.<u>.branch_main_1.3.weight      [mid, 1, 3, 3]       3x3 depthwise conv
///     features.<u>.branch_main_1.4.*           BatchNorm
///     features.<u>.branch_main_2.0.weight      [branch, mid/g, 1, 1] 1x1 group conv
///     features.<u>.branch_main_2.1.*           BatchNorm
///     classifier.0.weight                      [classes, C4]        (classifier.0.bias when it has one)
public struct ShuffleNetWeights: Sendable {
    /// Keys of the `__metadata__` strings a weights file carries (Weights/README.md).
    public enum MetadataKey {
        /// Always `shufflenet-v1`.
        public static let format = "format"
        /// The file format's version, `1`.
        public static let formatVersion = "format_version"
        /// Width scale `s`.
        public static let scale = "scale"
        /// Groups `g`.
        public static let groups = "groups"
        /// Output channels of conv1.
        public static let stemChannels = "stem_channels"
        /// Output channels of stages 2, 3 and 4, comma-separated.
        public static let stageChannels = "stage_channels"
        /// `megvii` or `paper` (`ChannelShuffleConvention`).
        public static let channelShuffle = "channel_shuffle"
        /// Classifier outputs.
        public static let numClasses = "num_classes"
        /// `true` when the classifier has a bias.
        public static let classifierBias = "classifier_bias"
        /// BatchNorm's epsilon.
        public static let batchNormEpsilon = "batchnorm_epsilon"
        /// The preprocessing the weights expect (`PreprocessingStyle`, e.g. `megvii`).
        public static let preprocessing = "preprocessing"
        /// `imagenet-1k` when the classes are ImageNet's, in its order.
        public static let labels = "labels"
        /// `int8` for a quantized file (`QuantizedWeights`); absent or `fp32` otherwise.
        public static let precision = "precision"
    }
    /// The `format` metadata value of these files.
    public static let formatName = "shufflenet-v1"
    /// The `format_version` metadata value this build reads and writes.
    public static let formatVersion = "1"
    /// The `precision` of these files (the key may be absent).
    public static let fp32Precision = "fp32"
    static let batchNormParts = ["weight", "bias", "running_mean", "running_var"]

    /// The network the tensors belong to.
    public let configuration: ShuffleNetConfiguration
    /// BatchNorm's epsilon, used when it is folded into the convolutions.
    public let batchNormEpsilon: Float
    /// Everything in `__metadata__`, including the keys this type interprets.
    public let metadata: [String: String]
    /// Every tensor by name, row-major, shapes as `expectedTensors(for:)` lists them.
    public let tensors: [String: [Float]]

    /// Every tensor a configuration needs, with its shape, in network order.
    public static func expectedTensors(for plan: NetworkPlan) -> [(name: String, shape: [Int])] {
        let c = plan.configuration
        var list: [(String, [Int])] = [("first_conv.0.weight", [c.stemChannels, 3, 3, 3])]
        func batchNorm(_ prefix: String, _ channels: Int) {
            for part in batchNormParts { list.append(("\(prefix).\(part)", [channels])) }
        }
        batchNorm("first_conv.1", c.stemChannels)
        for u in plan.units {
            let p = "features.\(u.index)"
            list.append(("\(p).branch_main_1.0.weight", [u.bottleneckChannels, u.inputChannels / u.firstConvGroups, 1, 1]))
            batchNorm("\(p).branch_main_1.1", u.bottleneckChannels)
            list.append(("\(p).branch_main_1.3.weight", [u.bottleneckChannels, 1, 3, 3]))
            batchNorm("\(p).branch_main_1.4", u.bottleneckChannels)
            list.append(("\(p).branch_main_2.0.weight", [u.branchChannels, u.bottleneckChannels / c.groups, 1, 1]))
            batchNorm("\(p).branch_main_2.1", u.branchChannels)
        }
        list.append(("classifier.0.weight", [c.numClasses, plan.finalChannels]))
        if c.classifierHasBias { list.append(("classifier.0.bias", [c.numClasses])) }
        return list
    }

    /// Checks that exactly the expected tensors are present, with the right element counts and finite values.
    public init(configuration: ShuffleNetConfiguration, tensors: [String: [Float]], batchNormEpsilon: Float = 1e-5,
                metadata: [String: String] = [:], source: String = "weights") throws(WeightsError) {
        let expected = Self.expectedTensors(for: NetworkPlan(configuration: configuration))
        for (name, shape) in expected {
            guard let values = tensors[name] else {
                throw WeightsError(path: source, "missing tensor \"\(name)\" (shape \(shape)) needed by \(configuration)")
            }
            let count = shape.reduce(1, *)
            guard values.count == count else {
                throw WeightsError(path: source, "tensor \"\(name)\" has \(values.count) values, expected shape \(shape) = \(count)")
            }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw WeightsError(path: source, "tensor \"\(name)\" holds a non-finite value (\(values[bad])) at element \(bad)")
            }
            if name.hasSuffix("running_var"), let bad = values.firstIndex(where: { $0 < 0 }) {
                throw WeightsError(path: source, "tensor \"\(name)\" holds a negative variance (\(values[bad])) at element \(bad)")
            }
        }
        let expectedNames = Set(expected.map(\.name))
        if let extra = tensors.keys.sorted().first(where: { !expectedNames.contains($0) }) {
            throw WeightsError(path: source, "unexpected tensor \"\(extra)\" for \(configuration)")
        }
        guard batchNormEpsilon.isFinite, batchNormEpsilon > 0 else {
            throw WeightsError(path: source, "BatchNorm epsilon must be positive (got \(batchNormEpsilon))")
        }
        self.configuration = configuration
        self.tensors = tensors
        self.batchNormEpsilon = batchNormEpsilon
        var metadata = metadata
        metadata.merge(Self.architectureMetadata(configuration, epsilon: batchNormEpsilon)) { _, new in new }
        self.metadata = metadata
    }

    /// Loads a safetensors weights file, checking its metadata, names, shapes, dtypes and byte ranges
    /// against the network that metadata describes.
    public init(contentsOf path: String) throws(WeightsError) {
        let file = try SafeTensorsFile(contentsOf: path)
        try self.init(file: file)
    }

    /// The network a file's metadata describes (format, version, widths, groups, shuffle, classes) and its
    /// BatchNorm epsilon; shared by the fp32 and the int8 loaders.
    static func architecture(metadata meta: [String: String], path: String) throws(WeightsError) -> (ShuffleNetConfiguration, epsilon: Float) {
        func field(_ key: String) throws(WeightsError) -> String {
            guard let value = meta[key] else {
                throw WeightsError(path: path, "metadata field \"\(key)\" is missing (not a shufflenet weights file? see Weights/README.md)")
            }
            return value
        }
        func integer(_ key: String) throws(WeightsError) -> Int {
            let text = try field(key)
            guard let value = Int(text) else { throw WeightsError(path: path, "metadata \"\(key)\" is not an integer: \"\(text)\"") }
            return value
        }
        guard try field(MetadataKey.format) == Self.formatName else {
            throw WeightsError(path: path, "metadata format is \"\(meta[MetadataKey.format] ?? "")\", expected \"\(Self.formatName)\"")
        }
        guard try field(MetadataKey.formatVersion) == Self.formatVersion else {
            throw WeightsError(path: path, "format version \"\(meta[MetadataKey.formatVersion] ?? "")\" is not supported (this build reads version \(Self.formatVersion))")
        }
        let scaleText = try field(MetadataKey.scale)
        guard let scale = Double(scaleText) else { throw WeightsError(path: path, "metadata scale is not a number: \"\(scaleText)\"") }
        let stageText = try field(MetadataKey.stageChannels)
        let stages = stageText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard stages.count == 3 else {
            throw WeightsError(path: path, "metadata stage_channels must be three integers like \"120,240,480\" (got \"\(stageText)\")")
        }
        let shuffleText = try field(MetadataKey.channelShuffle)
        guard let shuffle = ChannelShuffleConvention(rawValue: shuffleText) else {
            throw WeightsError(path: path, "metadata channel_shuffle must be \"paper\" or \"megvii\" (got \"\(shuffleText)\")")
        }
        let biasText = try field(MetadataKey.classifierBias)
        guard biasText == "true" || biasText == "false" else {
            throw WeightsError(path: path, "metadata classifier_bias must be \"true\" or \"false\" (got \"\(biasText)\")")
        }
        let epsilonText = try field(MetadataKey.batchNormEpsilon)
        guard let epsilon = Float(epsilonText) else {
            throw WeightsError(path: path, "metadata batchnorm_epsilon is not a number: \"\(epsilonText)\"")
        }
        let groups = try integer(MetadataKey.groups)
        let stem = try integer(MetadataKey.stemChannels)
        let classes = try integer(MetadataKey.numClasses)
        let configuration: ShuffleNetConfiguration
        do {
            configuration = try ShuffleNetConfiguration(
                scale: scale, groups: groups, stemChannels: stem, stageChannels: stages, numClasses: classes,
                shuffle: shuffle, classifierHasBias: biasText == "true")
        } catch {
            throw WeightsError(path: path, "metadata describes an invalid network: \(error)")
        }
        return (configuration, epsilon)
    }

    /// The weights in a parsed safetensors file, checked against the network its metadata describes.
    /// - Throws: `WeightsError` naming the first missing, extra or mis-shaped tensor or metadata field.
    public init(file: SafeTensorsFile) throws(WeightsError) {
        let path = file.path
        let meta = file.metadata
        if let precision = meta[MetadataKey.precision], precision != Self.fp32Precision {
            throw WeightsError(path: path, "metadata precision is \"\(precision)\", not an fp32 weights file: this build reads int8 files only in `inspect` and `quantize --evaluate` (library: QuantizedWeights)")
        }
        let (configuration, epsilon) = try Self.architecture(metadata: meta, path: path)
        var tensors: [String: [Float]] = [:]
        let expected = Self.expectedTensors(for: NetworkPlan(configuration: configuration))
        for (name, shape) in expected {
            guard let entry = file.entry(name) else {
                throw WeightsError(path: path, "missing tensor \"\(name)\" (shape \(shape)) needed by \(configuration)")
            }
            guard entry.shape == shape else {
                throw WeightsError(path: path, "tensor \"\(name)\" has shape \(entry.shape), expected \(shape) for \(configuration)")
            }
            tensors[name] = try file.floats(entry)
        }
        let expectedNames = Set(expected.map(\.name))
        if let extra = file.entries.first(where: { !expectedNames.contains($0.name) }) {
            throw WeightsError(path: path, "unexpected tensor \"\(extra.name)\" for \(configuration)")
        }
        try self.init(configuration: configuration, tensors: tensors, batchNormEpsilon: epsilon, metadata: meta, source: path)
    }

    static func architectureMetadata(_ c: ShuffleNetConfiguration, epsilon: Float) -> [String: String] {
        [
            MetadataKey.format: formatName,
            MetadataKey.formatVersion: formatVersion,
            MetadataKey.scale: "\(c.scale)",
            MetadataKey.groups: "\(c.groups)",
            MetadataKey.stemChannels: "\(c.stemChannels)",
            MetadataKey.stageChannels: c.stageChannels.map(String.init).joined(separator: ","),
            MetadataKey.channelShuffle: c.shuffle.rawValue,
            MetadataKey.numClasses: "\(c.numClasses)",
            MetadataKey.classifierBias: c.classifierHasBias ? "true" : "false",
            MetadataKey.batchNormEpsilon: "\(epsilon)",
        ]
    }

    /// The safetensors file for these weights, tensors in network order.
    public func safeTensors() -> SafeTensorsWriter {
        var writer = SafeTensorsWriter(metadata: metadata)
        for (name, shape) in Self.expectedTensors(for: NetworkPlan(configuration: configuration)) {
            writer.add(name, shape: shape, values: tensors[name] ?? [])
        }
        return writer
    }

    /// Seeded random weights with sensible statistics (He-scaled convolutions, BatchNorm near identity), for
    /// benchmarks and tests that need no weights file.
    public static func random(configuration: ShuffleNetConfiguration, seed: UInt64 = 1) -> ShuffleNetWeights {
        var rng = SplitMix64(seed: seed)
        var tensors: [String: [Float]] = [:]
        for (name, shape) in expectedTensors(for: NetworkPlan(configuration: configuration)) {
            let count = shape.reduce(1, *)
            let fanIn = shape.count > 1 ? shape.dropFirst().reduce(1, *) : 1
            let values: [Float]
            switch name.split(separator: ".").last ?? "" {
            case "running_var": values = (0..<count).map { _ in 0.5 + rng.nextUnit() }
            case "running_mean", "bias": values = (0..<count).map { _ in 0.2 * (rng.nextUnit() - 0.5) }
            case "weight" where shape.count == 1: values = (0..<count).map { _ in 0.8 + 0.4 * rng.nextUnit() }
            default:
                let limit = (6 / Float(fanIn)).squareRoot()
                values = (0..<count).map { _ in limit * (2 * rng.nextUnit() - 1) }
            }
            tensors[name] = values
        }
        // Every tensor is generated to the expected shapes, so the checks of the public initialiser are skipped.
        return ShuffleNetWeights(unchecked: configuration, tensors: tensors, source: "random, seed \(seed)")
    }

    private init(unchecked configuration: ShuffleNetConfiguration, tensors: [String: [Float]], source: String) {
        self.configuration = configuration
        self.tensors = tensors
        self.batchNormEpsilon = 1e-5
        self.metadata = Self.architectureMetadata(configuration, epsilon: 1e-5).merging(["source": source]) { a, _ in a }
    }

    func tensor(_ name: String) -> [Float] { tensors[name] ?? [] }
}

/// Small, fast, seedable generator (Steele et al., "SplitMix"), so random weights (and the trainer's splits)
/// are the same everywhere.
package struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    package init(seed: UInt64) { state = seed }
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func nextUnit() -> Float { Float(next() >> 40) / Float(1 << 24) }
}
