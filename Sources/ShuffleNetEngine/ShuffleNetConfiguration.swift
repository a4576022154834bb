/// Which of the two channel-shuffle conventions a set of weights was trained with.
///
/// The paper (Sec. 3.1, Fig. 1c) reshapes the `g * n` channels to `(g, n)`, transposes and flattens:
/// output channel `k * g + i` is input channel `i * n + k`. Megvii's released code reshapes to `(n, g)`
/// instead, which is the inverse permutation. Both mix information across groups equally well, but weights
/// trained with one give near-random answers with the other, so the convention is stored with the weights.
public enum ChannelShuffleConvention: String, Sendable, CaseIterable {
    /// The paper's reshape to `(g, n)`, transpose, flatten.
    case paper
    /// Megvii's released code: reshape to `(n, g)`, the inverse permutation; their checkpoints use it.
    case megvii

    /// `destination[j]` is where input channel `j` lands after the shuffle of `channels` channels in `groups`.
    public func destinations(channels: Int, groups: Int) -> [Int] {
        let n = channels / groups
        return (0..<channels).map { j in
            switch self {
            case .paper: return (j % n) * groups + j / n    // (g, n) -> (n, g)
            case .megvii: return (j % groups) * n + j / groups  // (n, g) -> (g, n)
            }
        }
    }
}

/// A configuration the network cannot have (unsupported groups, widths that do not divide); says which.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    /// An error with the given message.
    public init(_ description: String) { self.description = description }
}

/// The shape of one ShuffleNet v1: stem width, the three stage widths, groups and classes.
///
/// Widths follow the paper's Table 1 at 1x (conv1 24; stage 2 out channels 144/200/240/272/384 for
/// g = 1/2/3/4/8, doubling in stages 3 and 4) scaled by `s` (Sec. 4.1.1, "ShuffleNet s×"), and Megvii's
/// released code for the sizes it publishes. See `ShuffleNetConfiguration.init(scale:groups:)` for the
/// rounding rule.
public struct ShuffleNetConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// Units per stage (Table 1: stage 2 has 1+3, stage 3 has 1+7, stage 4 has 1+3).
    public static let stageRepeats = [4, 8, 4]
    /// The group counts of the paper's Table 1.
    public static let supportedGroups = [1, 2, 3, 4, 8]
    /// Stage 2 output channels at 1x for each `g` (paper, Table 1).
    public static let stage2ChannelsAt1x: [Int: Int] = [1: 144, 2: 200, 3: 240, 4: 272, 8: 384]

    /// Width scale `s` (0.5, 1, 1.5, 2 in the paper).
    public let scale: Double
    /// Groups `g` of the pointwise convolutions.
    public let groups: Int
    /// Output channels of conv1.
    public let stemChannels: Int
    /// Output channels of stages 2, 3 and 4.
    public let stageChannels: [Int]
    /// Classifier outputs (1000 for ImageNet).
    public let numClasses: Int
    /// The channel-shuffle convention the weights were trained with.
    public let shuffle: ChannelShuffleConvention
    /// Whether the classifier has a bias (Megvii's checkpoints: no).
    public let classifierHasBias: Bool

    /// The configuration for width scale `s` and `groups` g.
    ///
    /// Rounding rule: stage 2 width = Table 1's 1x width times `s`, rounded to the nearest multiple of `4g`
    /// (at least `4g`), so that the bottleneck (a quarter of the output, Sec. 3.2) and the output both divide
    /// into `g` groups; stages 3 and 4 double it. Stem (conv1): Megvii's value where it published one
    /// (0.5x: 12, or 16 for g = 8; 1x and 1.5x: 24; 2x: 48), otherwise `24 s` rounded to the nearest
    /// multiple of `g` (at least `g`), so that the first unit's branch (stage width minus stem) divides too.
    /// For every published size this reproduces Megvii's and the paper's numbers exactly.
    public init(scale: Double, groups: Int, numClasses: Int = 1000,
                shuffle: ChannelShuffleConvention = .megvii, classifierHasBias: Bool = false) throws(ConfigurationError) {
        guard Self.supportedGroups.contains(groups) else {
            throw ConfigurationError("groups must be one of 1, 2, 3, 4, 8 (got \(groups))")
        }
        guard scale.isFinite, scale >= 0.25, scale <= 4 else {
            throw ConfigurationError("scale must be between 0.25 and 4 (got \(scale))")
        }
        let unit = 4 * groups
        let stage2 = max(unit, Int((Double(Self.stage2ChannelsAt1x[groups]!) * scale / Double(unit)).rounded()) * unit)
        let stem: Int
        switch scale {
        case 0.5: stem = groups == 8 ? 16 : 12
        case 1.0, 1.5: stem = 24
        case 2.0: stem = 48
        default: stem = max(groups, Int((24 * scale / Double(groups)).rounded()) * groups)
        }
        try self.init(scale: scale, groups: groups, stemChannels: stem,
                      stageChannels: [stage2, 2 * stage2, 4 * stage2], numClasses: numClasses,
                      shuffle: shuffle, classifierHasBias: classifierHasBias)
    }

    /// An explicit configuration (as recorded in a weights file), checked for divisibility.
    public init(scale: Double, groups: Int, stemChannels: Int, stageChannels: [Int], numClasses: Int,
                shuffle: ChannelShuffleConvention, classifierHasBias: Bool) throws(ConfigurationError) {
        guard Self.supportedGroups.contains(groups) else {
            throw ConfigurationError("groups must be one of 1, 2, 3, 4, 8 (got \(groups))")
        }
        guard stageChannels.count == 3 else {
            throw ConfigurationError("need 3 stage widths (stages 2-4), got \(stageChannels.count)")
        }
        guard numClasses > 0, numClasses <= 100_000 else {
            throw ConfigurationError("number of classes must be 1...100000 (got \(numClasses))")
        }
        guard stemChannels > 0, stemChannels <= 4096, stageChannels.allSatisfy({ $0 > 0 && $0 <= 16384 }) else {
            throw ConfigurationError("channel counts out of range: stem \(stemChannels), stages \(stageChannels)")
        }
        var input = stemChannels
        for (stage, output) in stageChannels.enumerated() {
            let name = "stage \(stage + 2)"
            guard output % 4 == 0, (output / 4) % groups == 0 else {
                throw ConfigurationError("\(name): bottleneck \(output)/4 does not divide into \(groups) groups")
            }
            guard output > input, (output - input) % groups == 0 else {
                throw ConfigurationError("\(name): first unit's branch (\(output) - \(input) channels) does not divide into \(groups) groups")
            }
            input = output
        }
        self.scale = scale
        self.groups = groups
        self.stemChannels = stemChannels
        self.stageChannels = stageChannels
        self.numClasses = numClasses
        self.shuffle = shuffle
        self.classifierHasBias = classifierHasBias
    }

    public var description: String {
        "ShuffleNet v1 \(scale)x g=\(groups) (conv1 \(stemChannels), stages \(stageChannels.map(String.init).joined(separator: "/")), \(numClasses) classes, \(shuffle.rawValue) shuffle)"
    }
}
