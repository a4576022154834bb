import Foundation
import ShuffleNet
import ShuffleNetBatch
import Testing

/// The walk: which files become rows and in which order (stdin lists: `StandardInputListTests`).
@Suite struct BatchInputTests {
    @Test func naturalOrderComparesDigitRunsByValue() {
        let names = ["img10.jpg", "img2.jpg", "img1.jpg", "img02.jpg", "IMG3.jpg", "a b.jpg", "a.jpg", "a/", "img1a.jpg", "x100", "x99", "é.jpg", "z.jpg"]
        // Worked out by hand from the rule: bytes, digit runs by value, ties by plain bytes ("img02" < "img2").
        #expect(InputNaturalOrder.sorted(names) == ["IMG3.jpg", "a b.jpg", "a.jpg", "a/", "img1.jpg", "img1a.jpg", "img02.jpg", "img2.jpg", "img10.jpg", "x99", "x100", "z.jpg", "é.jpg"])
        #expect(InputNaturalOrder.areInIncreasingOrder("page007", "page8"))
        #expect(!InputNaturalOrder.areInIncreasingOrder("a1", "a1"))
        #expect(InputNaturalOrder.areInIncreasingOrder("0000", "1"))
    }

    @Test func extensionFilterIsCaseInsensitive() throws {
        let filter = try InputFilter()
        #expect(filter.isImageNamed("a/B.JPG") && filter.isImageNamed("x.jpeg") && filter.isImageNamed("dir.png/"))
        #expect(!filter.isImageNamed("notes.txt") && !filter.isImageNamed(".jpg") && !filter.isImageNamed("jpg") && !filter.isImageNamed("a.jpg.bak"))
        #expect(try InputFilter(extensions: [".WebP"]).isImageNamed("x.webp"))
        #expect(throws: BatchError.invalidExtension("")) { try InputFilter(extensions: [""]) }
    }

    @Test func recursiveWalkYieldsEveryImageNamedFileOnceInNaturalOrder() throws {
        let tmp = try BatchTestSupport.temporaryDirectory("walk")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let (root, expected) = try BatchTestSupport.makeJudgedTree(in: tmp)
        mkfifo(root + "/pipe.jpg", 0o644)
        let walker = InputWalker(sources: [.path(root + "/")], recursive: true, filter: try InputFilter())
        let items = Array(sequence(state: walker) { $0.next() })
        var paths = expected.map { root + "/" + $0.path }
        paths.insert(root + "/pipe.jpg", at: 7)  // "pi" sorts before "pn"
        #expect(items.map(\.path) == paths)
        #expect(items.first { $0.path.hasSuffix("pipe.jpg") }?.problem?.contains("not a regular file") == true)
        #expect(items.filter { $0.problem != nil }.count == 1)
        #expect(items.first?.shardKey == "IMG_0001.JPEG")
        #expect(items.first { $0.path.hasSuffix("photo 1.png") }?.shardKey == "sub dir/deeper/photo 1.png")
    }

    @Test func aNameThatIsNotUTF8IsAnErrorItemNotADroppedFile() throws {
        let tmp = try BatchTestSupport.temporaryDirectory("latin1")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        // "caf\xE9.jpg" in Latin-1, as old cameras and zip files leave them.
        let name: [CChar] = Array((tmp + "/caf").utf8CString.dropLast()) + [CChar(bitPattern: 0xE9)] + Array(".jpg".utf8CString)
        let descriptor = open(name, O_CREAT | O_WRONLY, 0o644)
        #expect(descriptor >= 0)
        close(descriptor)
        let walker = InputWalker(sources: [.path(tmp)], recursive: true, filter: try InputFilter())
        let items = Array(sequence(state: walker) { $0.next() })
        #expect(items.count == 1)
        #expect(items.first?.problem?.contains("not valid UTF-8") == true)
    }

    @Test func withoutRecursionOnlyTheTopLevelAndExplicitFilesAsGiven() throws {
        let tmp = try BatchTestSupport.temporaryDirectory("walk-flat")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let (root, _) = try BatchTestSupport.makeJudgedTree(in: tmp)
        let walker = InputWalker(sources: [.path(root + "/readme.txt"), .path(root), .path(root + "/nope.jpg")],
                                 recursive: false, filter: try InputFilter())
        let paths = Array(sequence(state: walker) { $0.next() }).map(\.path)
        #expect(paths == [root + "/readme.txt"] + ["IMG_0001.JPEG", "dangling.jpg", "empty.png", "img2.JPG", "img10.jpg", "png-named.JPG", "truncated.jpg"].map { root + "/" + $0 } + [root + "/nope.jpg"])
    }

    @Test func shardsPartitionTheInputsAndParse() throws {
        #expect(try ShardSelection(parsing: "2/8") == ShardSelection(index: 2, count: 8))
        for bad in ["0/4", "5/4", "1/0", "1", "a/b", "1/2/3", "-1/2", ""] {
            #expect(throws: BatchError.invalidShard(bad)) { try ShardSelection(parsing: bad) }
        }
        // FNV-1a 64 + SplitMix64 finaliser, values from a Python one-liner of the documented formula.
        #expect(ShardSelection.hash("") == 0xF52A_15E9_A9B5_E89B)
        #expect(ShardSelection.hash("a") == 0x02C0_BDBF_4814_20F8)
        #expect(ShardSelection.hash("img_0001.jpg") == 0x055F_2CF3_A852_A686)
        #expect(try ShardSelection(parsing: "3/4").contains(InputItem(path: "/mnt/x/sub dir/photo.JPG", shardKey: "sub dir/photo.JPG")))
        let items = (0..<2000).map { InputItem(path: "img_\($0).jpg") }
        let shards = try (1...4).map { try ShardSelection(index: $0, count: 4) }
        for item in items { #expect(shards.filter { $0.contains(item) }.count == 1) }
        for shard in shards { #expect((400...600).contains(items.filter(shard.contains).count)) }
    }
}
