import Testing
import ShuffleNetEngine

@Suite struct ChannelShuffleTests {
    @Test func paperConventionMatchesHandComputedOrder() {
        // 6 channels, g = 2: paper reshapes to (2, 3) and transposes, giving 0 3 1 4 2 5.
        let x: [Float] = [0, 1, 2, 3, 4, 5]
        #expect(ReferenceKernels.channelShuffle(x, channels: 6, groups: 2, convention: .paper) == [0, 3, 1, 4, 2, 5])
    }

    @Test func megviiConventionMatchesHandComputedOrder() {
        // Megvii reshapes to (3, 2) and transposes, giving 0 2 4 1 3 5.
        let x: [Float] = [0, 1, 2, 3, 4, 5]
        #expect(ReferenceKernels.channelShuffle(x, channels: 6, groups: 2, convention: .megvii) == [0, 2, 4, 1, 3, 5])
    }

    @Test(arguments: [1, 2, 3, 4, 8])
    func conventionsAreInversesAndDestinationsAgree(groups: Int) {
        let channels = 12 * groups
        let x = (0..<channels).map(Float.init)
        let paper = ReferenceKernels.channelShuffle(x, channels: channels, groups: groups, convention: .paper)
        let megvii = ReferenceKernels.channelShuffle(paper, channels: channels, groups: groups, convention: .megvii)
        #expect(megvii == x)
        for convention in ChannelShuffleConvention.allCases {
            let shuffled = ReferenceKernels.channelShuffle(x, channels: channels, groups: groups, convention: convention)
            let destinations = convention.destinations(channels: channels, groups: groups)
            for j in 0..<channels { #expect(shuffled[destinations[j]] == x[j]) }
        }
    }
}
