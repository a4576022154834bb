/// Checkpoints this tool knows how to obtain by name: Megvii's official ImageNet weights (MIT licence,
/// megvii-model/ShuffleNet-Series), pinned to one public copy by commit and sha256. Weights/manifest.json
/// documents the same list for people and scripts.
public struct PublishedWeights: Sendable, Equatable {
    /// Short name, e.g. `0.5x-g3` (`classify --model`).
    public let name: String
    /// Width scale `s` of the paper.
    public let scale: Double
    /// Groups `g` of the paper.
    public let groups: Int
    /// Megvii's checkpoint file, pinned by URL and sha256.
    public let checkpoint: PinnedCheckpoint
    /// ImageNet-1k validation top-1 accuracy, percent, as claimed by Megvii's README (not measured here).
    public let claimedTop1: Double

    /// The converted file kept in the cache directory.
    public var cacheFileName: String { "shufflenet-v1-\(name).safetensors" }

    static let mirrorCommit = "08971610b2160944c6cbe7108962566fbad5a985"
    static func mirrorURL(group: Int, size: String) -> String {
        "https://raw.githubusercontent.com/DavidBlavid/ShufflenetDemo/\(mirrorCommit)/weights/ShuffleNetV1/Group\(group)/models/\(size).pth.tar"
    }

    /// Every checkpoint the library can fetch by name.
    public static let all: [PublishedWeights] = [
        PublishedWeights(
            name: "0.5x-g3", scale: 0.5, groups: 3,
            checkpoint: PinnedCheckpoint(
                fileName: "megvii_ShuffleNetV1_0.5x_g3.pth.tar", url: mirrorURL(group: 3, size: "0.5x"),
                sha256: "da5df689f1d8f278fd1446e73f3a63aa7809206fadc6678bfd7580aad412abde", byteCount: 2_977_667),
            claimedTop1: 57.3),
        PublishedWeights(
            name: "0.5x-g8", scale: 0.5, groups: 8,
            checkpoint: PinnedCheckpoint(
                fileName: "megvii_ShuffleNetV1_0.5x_g8.pth.tar", url: mirrorURL(group: 8, size: "0.5x"),
                sha256: "324922040c0ee642ce7168f32259aca0c9e16baf6b2abade4122edff6ba58382", byteCount: 4_179_611),
            claimedTop1: 58.8),
    ]

    /// What `shufflenet classify` uses without `--weights`.
    public static let standard = all[0]

    /// The published weights called `name`, or nil.
    public static func named(_ name: String) -> PublishedWeights? { all.first { $0.name == name } }
}
