/// The fp32 network's own folded weights rounded to 16-bit floats, carried by an int8 file so that an int8 answer
/// near a tie can be recomputed the way the fp32 network computes it (`ImageClassifier`'s `Int8Recheck`).
///
/// Why not the int8 codes dequantized: 8-bit weights alone move the logits by 3.5% of their spread, and the photos
/// a recheck is for are exactly the ones where that is enough to swap the top two classes (the dequantized network
/// agrees with fp32 on 96.7% / 98.4% of the unseen photos, 0.5x g3 / g8, and its disagreements are all near ties).
/// binary16 weights move them by 0.3% and agreed on every one of 488 (Scripts/int8_study.md, section 11).
///
/// Tensors (optional in an int8 file; all of them or none), for every unit `<u>` and layer `<l>` of `compress`,
/// `depthwise`, `expand`, and for `classifier`:
///
///     features.<u>.<l>.recheck_weight   F16 [outputs, ...]   the folded fp32 weights, shaped as `<l>.weight`
///     features.<u>.<l>.recheck_bias     F32 [outputs]        the folded fp32 bias (before any bias correction)
///     classifier.recheck_weight         F16 [classes, C4]
///     classifier.recheck_bias           F32 [classes]        zeros when the fp32 classifier has no bias
///
/// Expand's inputs are in the shuffled order, as in the fp32 files. conv1 is already fp32 in an int8 file.
public struct RecheckWeights: Sendable, Equatable {
    /// One convolution (or the classifier): weights as binary16 bit patterns, `[outputs][perOutput]`.
    public struct Layer: Sendable, Equatable {
        /// `[outputs][perOutput]` binary16 bit patterns, row-major.
        public let weights: [UInt16]
        /// `[outputs]`, fp32.
        public let bias: [Float]

        /// nil when a weight is too large for binary16 (above 65504 in magnitude) or a value is not finite.
        public init?(folded: [Float], bias: [Float]) {
            var bits = [UInt16](repeating: 0, count: folded.count)
            for (i, v) in folded.enumerated() {
                let h = Float16(v)
                guard h.isFinite else { return nil }
                bits[i] = h.bitPattern
            }
            guard bias.allSatisfy(\.isFinite) else { return nil }
            weights = bits
            self.bias = bias
        }

        /// The stored form (bit patterns); `QuantizedWeights` checks shapes and finiteness.
        public init(weights: [UInt16], bias: [Float]) {
            self.weights = weights
            self.bias = bias
        }

        /// The weights as fp32 (exact: every binary16 value is a float).
        public var floatWeights: [Float] { weights.map { Float(Float16(bitPattern: $0)) } }

        /// The index of the first weight that is infinite or NaN (exponent bits all ones), if any.
        var firstNonFiniteWeight: Int? { weights.firstIndex { $0 & 0x7C00 == 0x7C00 } }
    }

    /// One unit's three convolutions.
    public struct Unit: Sendable, Equatable {
        /// The first 1x1 group convolution, `[mid][in/g1]`.
        public let compress: Layer
        /// The 3x3 depthwise convolution, `[mid][9]`.
        public let depthwise: Layer
        /// The second 1x1 group convolution, `[branch][mid/g]`, inputs in the shuffled order.
        public let expand: Layer

        /// The three layers.
        public init(compress: Layer, depthwise: Layer, expand: Layer) {
            self.compress = compress
            self.depthwise = depthwise
            self.expand = expand
        }
    }

    /// One entry per unit, in network order.
    public let units: [Unit]
    /// `[classes][C4]`.
    public let classifier: Layer

    /// The stored form; `QuantizedWeights` checks it against the network.
    public init(units: [Unit], classifier: Layer) {
        self.units = units
        self.classifier = classifier
    }

    /// The recheck weights of a folded fp32 network; nil when one of its weights does not fit binary16.
    package init?(folded: FoldedNetwork) {
        var units: [Unit] = []
        for unit in folded.units {
            guard let a = Layer(folded: unit.compress.weights, bias: unit.compress.bias),
                  let d = Layer(folded: unit.depthwise.weights, bias: unit.depthwise.bias),
                  let e = Layer(folded: unit.expand.weights, bias: unit.expand.bias) else { return nil }
            units.append(Unit(compress: a, depthwise: d, expand: e))
        }
        let classes = folded.plan.configuration.numClasses
        guard let classifier = Layer(folded: folded.classifierWeights,
                                     bias: folded.classifierBias ?? [Float](repeating: 0, count: classes)) else { return nil }
        self.init(units: units, classifier: classifier)
    }

    /// Bytes these tensors take in a file (and in memory).
    public var byteCount: Int {
        let layers = units.flatMap { [$0.compress, $0.depthwise, $0.expand] } + [classifier]
        return layers.reduce(0) { $0 + 2 * $1.weights.count + 4 * $1.bias.count }
    }

    /// Tensor names and shapes, for every layer `QuantizedWeights.orderedTensorLayout` lists a weight for.
    package static func tensorLayout(for plan: NetworkPlan) -> [(name: String, dtype: SafeTensorsDType, shape: [Int])] {
        let c = plan.configuration
        var list: [(String, SafeTensorsDType, [Int])] = []
        func layer(_ prefix: String, _ outputs: Int, _ shape: [Int]) {
            list += [("\(prefix).recheck_weight", .F16, [outputs] + shape), ("\(prefix).recheck_bias", .F32, [outputs])]
        }
        for u in plan.units {
            let p = "features.\(u.index)"
            layer("\(p).compress", u.bottleneckChannels, [u.inputChannels / u.firstConvGroups])
            layer("\(p).depthwise", u.bottleneckChannels, [3, 3])
            layer("\(p).expand", u.branchChannels, [u.bottleneckChannels / c.groups])
        }
        layer("classifier", c.numClasses, [plan.finalChannels])
        return list
    }
}
