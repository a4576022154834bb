import Testing
import ShuffleNetEngine

@Suite struct ConfigurationTests {
    @Test func megviiPublishedWidths() throws {
        // Megvii's network.py, stage_out_channels for the sizes it publishes.
        let expected: [(Double, Int, Int, [Int])] = [
            (0.5, 3, 12, [120, 240, 480]), (1.0, 3, 24, [240, 480, 960]), (1.5, 3, 24, [360, 720, 1440]),
            (2.0, 3, 48, [480, 960, 1920]), (0.5, 8, 16, [192, 384, 768]), (1.0, 8, 24, [384, 768, 1536]),
            (1.5, 8, 24, [576, 1152, 2304]), (2.0, 8, 48, [768, 1536, 3072]),
        ]
        for (scale, groups, stem, stages) in expected {
            let c = try ShuffleNetConfiguration(scale: scale, groups: groups)
            #expect(c.stemChannels == stem && c.stageChannels == stages, "\(scale)x g=\(groups)")
        }
    }

    @Test func paperTable1WidthsAndComplexity() throws {
        // Table 1 (1x): stage 2 width and complexity in MFLOPs (multiply-adds) for g = 1, 2, 3, 4, 8.
        let table: [(Int, Int, Double)] = [(1, 144, 143), (2, 200, 140), (3, 240, 137), (4, 272, 133), (8, 384, 137)]
        for (groups, stage2, mflops) in table {
            let c = try ShuffleNetConfiguration(scale: 1, groups: groups)
            #expect(c.stemChannels == 24 && c.stageChannels == [stage2, 2 * stage2, 4 * stage2])
            let measured = Double(NetworkPlan(configuration: c).multiplyAdds) / 1e6
            // The paper rounds and (by a few M) differs in what it counts; within 2%.
            #expect(abs(measured - mflops) / mflops < 0.02, "g=\(groups): \(measured) vs \(mflops)")
        }
    }

    @Test func megviiClaimedSizes() throws {
        // Megvii's README: 0.5x g3 38M FLOPs 0.7M params; 0.5x g8 40M FLOPs 1.0M params.
        let g3 = NetworkPlan(configuration: try ShuffleNetConfiguration(scale: 0.5, groups: 3))
        let g8 = NetworkPlan(configuration: try ShuffleNetConfiguration(scale: 0.5, groups: 8))
        #expect((g3.multiplyAdds + 500_000) / 1_000_000 == 38 && (Double(g3.parameterCount) / 1e5).rounded() == 7)
        #expect((g8.multiplyAdds + 500_000) / 1_000_000 == 40 && (Double(g8.parameterCount) / 1e5).rounded() == 10)
    }

    @Test func everyScaleAndGroupDivides() throws {
        for groups in [1, 2, 3, 4, 8] {
            for scale in [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3] {
                let c = try ShuffleNetConfiguration(scale: scale, groups: groups)
                for u in NetworkPlan(configuration: c).units {
                    #expect(u.bottleneckChannels % groups == 0 && u.branchChannels % groups == 0 && u.inputChannels % u.firstConvGroups == 0)
                }
            }
        }
    }

    @Test func invalidConfigurationsAreRefused() {
        #expect(throws: ConfigurationError.self) { try ShuffleNetConfiguration(scale: 1, groups: 5) }
        #expect(throws: ConfigurationError.self) { try ShuffleNetConfiguration(scale: 0, groups: 3) }
        #expect(throws: ConfigurationError.self) { try ShuffleNetConfiguration(scale: .nan, groups: 3) }
        // 100 channels: the bottleneck of 25 does not split into 3 groups.
        #expect(throws: ConfigurationError.self) {
            try ShuffleNetConfiguration(scale: 1, groups: 3, stemChannels: 24, stageChannels: [100, 200, 400], numClasses: 10,
                                        shuffle: .megvii, classifierHasBias: false)
        }
    }

    @Test func planShapesFollowTable1() throws {
        let plan = NetworkPlan(configuration: try ShuffleNetConfiguration(scale: 1, groups: 3))
        #expect(plan.stemOutputSize == 112 && plan.poolOutputSize == 56)
        #expect(plan.units.count == 16)
        #expect(plan.units.map(\.outputSize) == [28, 28, 28, 28] + Array(repeating: 14, count: 8) + [7, 7, 7, 7])
        #expect(plan.units.filter { $0.stride == 2 }.map(\.index) == [0, 4, 12])
        #expect(plan.units[0].firstConvGroups == 1 && plan.units[1].firstConvGroups == 3)
        #expect(plan.units[0].branchChannels == 240 - 24 && plan.units[0].bottleneckChannels == 60)
    }
}
