import ShuffleNet
/// `--shard K/N`: which of N disjoint parts of the input this process classifies.
///
/// A file belongs to part `hash(shardKey) mod N` (1-based: part K takes the files whose value is K - 1),
/// where `shardKey` is the path relative to the directory argument. The split depends only on the names,
/// not on the walk order, the machine, the mount point or the other files, so N processes given the same
/// inputs and K = 1...N together classify every file exactly once, and a rerun of one part redoes the same
/// files. The hash is FNV-1a (64-bit) of the UTF-8 bytes followed by the SplitMix64 finaliser, which spreads
/// similar names (`img_0001.jpg`, `img_0002.jpg`, ...) evenly over the parts.
package struct ShardSelection: Sendable, Equatable, CustomStringConvertible {
    /// 1...count.
    package let index: Int
    package let count: Int

    package init(index: Int, count: Int) throws(BatchError) {
        guard count >= 1, (1...count).contains(index) else { throw .invalidShard("\(index)/\(count)") }
        self.index = index
        self.count = count
    }

    /// Parses `K/N`, e.g. `3/8`.
    package init(parsing text: String) throws(BatchError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, n <= 1_000_000, (1...n).contains(k) else {
            throw .invalidShard(text)
        }
        self.index = k
        self.count = n
    }

    package var description: String { "\(index)/\(count)" }

    package func contains(_ item: InputItem) -> Bool {
        Int(Self.hash(item.shardKey) % UInt64(count)) == index - 1
    }

    /// The stable 64-bit hash of a shard key (documented above so that other tools can reproduce the split).
    package static func hash(_ key: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key.utf8 {
            h ^= UInt64(byte)
            h &*= 0x0000_0100_0000_01B3
        }
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 31)
    }
}
