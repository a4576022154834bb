/// One bottleneck unit of Fig. 2 (b) (stride 1) or (c) (stride 2).
public struct UnitPlan: Sendable, Equatable {
    /// Stage number as in Table 1 (2, 3 or 4) and position inside the stage (0 = the stride-2 unit).
    public let stage: Int
    /// Position inside the stage (0 = the stride-2 unit).
    public let indexInStage: Int
    /// Index over all units, as in the weight names `features.<index>.*`.
    public let index: Int
    /// 2 for the first unit of a stage (Fig. 2c), 1 for the others (Fig. 2b).
    public let stride: Int
    /// Channels the unit reads.
    public let inputChannels: Int
    /// Channels the unit writes.
    public let outputChannels: Int
    /// Channels the residual branch produces: all of them for stride 1 (added to the input), or
    /// `output - input` for stride 2 (concatenated after the average-pooled input).
    public let branchChannels: Int
    /// Bottleneck width: a quarter of the unit's output channels (Sec. 3.2).
    public let bottleneckChannels: Int
    /// Groups of the first 1x1 conv: 1 for the very first unit, whose input (the stem, 24 channels at 1x) is
    /// too narrow to split (Sec. 3.2, "we do not apply group convolution on the first pointwise layer").
    public let firstConvGroups: Int
    /// Height (= width) of the unit's input planes.
    public let inputSize: Int
    /// Height (= width) of the unit's output planes.
    public let outputSize: Int
}

/// The whole network for one configuration and input size: every unit's shape, the parameter count and
/// the multiply-adds, derived once from `ShuffleNetConfiguration`.
public struct NetworkPlan: Sendable, Equatable {
    /// The network's widths, groups and classes.
    public let configuration: ShuffleNetConfiguration
    /// Height (= width) of the square input image.
    public let inputSize: Int
    /// After conv1 (3x3, stride 2) and after the 3x3 stride-2 max pool.
    public let stemOutputSize: Int
    /// After the max pool: the size of stage 2's input.
    public let poolOutputSize: Int
    /// Every bottleneck unit in network order (16: 4 + 8 + 4).
    public let units: [UnitPlan]

    /// Derives every unit's shape for square inputs of `inputSize` pixels.
    public init(configuration: ShuffleNetConfiguration, inputSize: Int = 224) {
        self.configuration = configuration
        self.inputSize = inputSize
        let stemSize = Self.downsampled(inputSize)
        stemOutputSize = stemSize
        poolOutputSize = Self.downsampled(stemSize)
        var units: [UnitPlan] = []
        var channels = configuration.stemChannels
        var size = poolOutputSize
        for (stageOffset, repeats) in ShuffleNetConfiguration.stageRepeats.enumerated() {
            let output = configuration.stageChannels[stageOffset]
            for i in 0..<repeats {
                let stride = i == 0 ? 2 : 1
                let outSize = stride == 2 ? Self.downsampled(size) : size
                units.append(UnitPlan(
                    stage: stageOffset + 2, indexInStage: i, index: units.count, stride: stride,
                    inputChannels: channels, outputChannels: output,
                    branchChannels: stride == 2 ? output - channels : output,
                    bottleneckChannels: output / 4,
                    firstConvGroups: (stageOffset == 0 && i == 0) ? 1 : configuration.groups,
                    inputSize: size, outputSize: outSize))
                channels = output
                size = outSize
            }
        }
        self.units = units
    }

    /// Output size of a 3x3 window with stride 2 and padding 1: `floor((n - 1) / 2) + 1`.
    static func downsampled(_ n: Int) -> Int { (n - 1) / 2 + 1 }

    /// Channels after stage 4, which the global pool averages and the classifier reads.
    public var finalChannels: Int { configuration.stageChannels[2] }
    /// Height (= width) of stage 4's output planes (7 at 224x224).
    public var finalSize: Int { units.last?.outputSize ?? poolOutputSize }

    /// Learned parameters (convolutions, BatchNorm scale and shift, classifier), as the paper counts them.
    public var parameterCount: Int {
        let c = configuration
        var total = c.stemChannels * 3 * 9 + 2 * c.stemChannels
        for u in units {
            total += u.inputChannels / u.firstConvGroups * u.bottleneckChannels + 2 * u.bottleneckChannels
            total += 9 * u.bottleneckChannels + 2 * u.bottleneckChannels
            total += u.bottleneckChannels / c.groups * u.branchChannels + 2 * u.branchChannels
        }
        total += finalChannels * c.numClasses + (c.classifierHasBias ? c.numClasses : 0)
        return total
    }

    /// Multiply-adds of the convolutions and the classifier ("FLOPs" in the paper, Table 2).
    public var multiplyAdds: Int {
        let c = configuration
        var total = stemOutputSize * stemOutputSize * c.stemChannels * 3 * 9
        for u in units {
            let inPixels = u.inputSize * u.inputSize, outPixels = u.outputSize * u.outputSize
            total += inPixels * u.bottleneckChannels * (u.inputChannels / u.firstConvGroups)
            total += outPixels * u.bottleneckChannels * 9
            total += outPixels * u.branchChannels * (u.bottleneckChannels / c.groups)
        }
        total += finalChannels * c.numClasses
        return total
    }
}
