/// ShuffleNet v1 computed literally, layer by layer, with the naive kernels and unfolded BatchNorm:
/// the executable specification that the fast `ShuffleNetModel` is tested against. Slow on purpose.
package struct ReferenceNetwork: Sendable {
    package let weights: ShuffleNetWeights
    package let plan: NetworkPlan

    package init(weights: ShuffleNetWeights, inputSize: Int = 224) {
        self.weights = weights
        self.plan = NetworkPlan(configuration: weights.configuration, inputSize: inputSize)
    }

    /// Logits for one `[3][inputSize][inputSize]` input.
    package func logits(for input: [Float]) -> [Float] {
        let c = plan.configuration
        let w = weights
        func bn(_ x: [Float], _ prefix: String, _ channels: Int) -> [Float] {
            ReferenceKernels.batchNorm(x, channels: channels, gamma: w.tensor("\(prefix).weight"),
                                       beta: w.tensor("\(prefix).bias"), mean: w.tensor("\(prefix).running_mean"),
                                       variance: w.tensor("\(prefix).running_var"), epsilon: w.batchNormEpsilon)
        }
        var size = plan.inputSize
        let stem = ReferenceKernels.convolution(input, channels: 3, height: size, width: size,
                                                weights: w.tensor("first_conv.0.weight"), outputChannels: c.stemChannels,
                                                kernel: 3, stride: 2, padding: 1, groups: 1)
        var x = ReferenceKernels.relu(bn(stem.values, "first_conv.1", c.stemChannels))
        size = stem.height
        let pooled = ReferenceKernels.pool3x3Stride2(x, channels: c.stemChannels, height: size, width: size, maximum: true)
        x = pooled.values
        size = pooled.height

        for u in plan.units {
            let p = "features.\(u.index)"
            // Fig. 2: 1x1 GConv, BN, ReLU, (shuffle), 3x3 DWConv, BN, 1x1 GConv, BN.
            let conv1 = ReferenceKernels.convolution(x, channels: u.inputChannels, height: size, width: size,
                                                     weights: w.tensor("\(p).branch_main_1.0.weight"),
                                                     outputChannels: u.bottleneckChannels, kernel: 1, stride: 1,
                                                     padding: 0, groups: u.firstConvGroups)
            var branch = ReferenceKernels.relu(bn(conv1.values, "\(p).branch_main_1.1", u.bottleneckChannels))
            let depthwise = ReferenceKernels.convolution(branch, channels: u.bottleneckChannels, height: size, width: size,
                                                         weights: w.tensor("\(p).branch_main_1.3.weight"),
                                                         outputChannels: u.bottleneckChannels, kernel: 3,
                                                         stride: u.stride, padding: 1, groups: u.bottleneckChannels)
            branch = bn(depthwise.values, "\(p).branch_main_1.4", u.bottleneckChannels)
            // Megvii shuffles after the depthwise conv; the paper before it. A depthwise conv treats every
            // channel alike, so the two orders give the same result.
            if c.groups > 1 {
                branch = ReferenceKernels.channelShuffle(branch, channels: u.bottleneckChannels, groups: c.groups,
                                                         convention: c.shuffle)
            }
            let conv2 = ReferenceKernels.convolution(branch, channels: u.bottleneckChannels, height: depthwise.height,
                                                     width: depthwise.width, weights: w.tensor("\(p).branch_main_2.0.weight"),
                                                     outputChannels: u.branchChannels, kernel: 1, stride: 1, padding: 0,
                                                     groups: c.groups)
            branch = bn(conv2.values, "\(p).branch_main_2.1", u.branchChannels)
            if u.stride == 1 {
                x = ReferenceKernels.relu(zip(branch, x).map { $0 + $1 })
            } else {
                let shortcut = ReferenceKernels.pool3x3Stride2(x, channels: u.inputChannels, height: size, width: size,
                                                               maximum: false)
                x = shortcut.values + ReferenceKernels.relu(branch)
            }
            size = depthwise.height
        }
        let features = ReferenceKernels.globalAveragePool(x, channels: plan.finalChannels)
        return ReferenceKernels.linear(features, weights: w.tensor("classifier.0.weight"), outputs: c.numClasses,
                                       bias: c.classifierHasBias ? w.tensor("classifier.0.bias") : nil)
    }
}
