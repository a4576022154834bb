import Foundation
import ShuffleNet
import ShuffleNetBatch
import Testing

/// Stdin lists (`classify -`): every entry is an explicit input, like an argument; only empty entries are
/// skipped, and counted.
@Suite struct StandardInputListTests {
    /// Walks `entries` written to a file read as stdin, each followed by `separator` (the last newline left
    /// off: a last line without one still counts).
    static func walk(_ entries: [String], separator: UInt8, recursive: Bool = false, in tmp: String) throws -> (items: [InputItem], emptyLines: Int) {
        var bytes: [UInt8] = []
        for entry in entries { bytes += Array(entry.utf8) + [separator] }
        if separator != 0 { bytes.removeLast() }
        let listFile = tmp + "/list-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: listFile, contents: Data(bytes))
        let descriptor = open(listFile, O_RDONLY)
        defer { close(descriptor) }
        let walker = InputWalker(sources: [.standardInput(separator: separator)], recursive: recursive,
                                 filter: try InputFilter(), standardInputDescriptor: descriptor)
        let items = Array(sequence(state: walker) { $0.next() })
        #expect(!walker.isRepeatable)
        return (items, walker.emptyLinesSkipped)
    }

    @Test(arguments: [UInt8(ascii: "\n"), 0])
    func entriesOfAnyNameGetOneItemEachAndEmptyOnesAreCounted(separator: UInt8) throws {
        let tmp = try BatchTestSupport.temporaryDirectory("stdin-names")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let (root, _) = try BatchTestSupport.makeJudgedTree(in: tmp)
        let cat = try Data(contentsOf: URL(fileURLWithPath: BatchTestSupport.catJPEG))
        for name in ["anim.gif", "burst.mpo", "no extension"] { _ = FileManager.default.createFile(atPath: tmp + "/" + name, contents: cat) }
        let entries = [root + "/img2.JPG", tmp + "/anim.gif", "", tmp + "/burst.mpo", tmp + "/no extension",
                       root + "/readme.txt", "", "", root + "/gone.png", root + "/Vacation 2024/clip.mov"]
        let (items, emptyLines) = try Self.walk(entries, separator: separator, in: tmp)
        #expect(items.map(\.path) == [root + "/img2.JPG", tmp + "/anim.gif", tmp + "/burst.mpo", tmp + "/no extension",
                                      root + "/readme.txt", root + "/gone.png", root + "/Vacation 2024/clip.mov"])
        // Nothing is known to be bad before opening: the missing file and the text file fail when read.
        #expect(items.allSatisfy { $0.problem == nil })
        #expect(emptyLines == 3)
        #expect(items.count + emptyLines == entries.count)
    }

    @Test func aDirectoryOnStdinExpandsAsAnArgumentDoes() throws {
        let tmp = try BatchTestSupport.temporaryDirectory("stdin-dirs")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let (root, expected) = try BatchTestSupport.makeJudgedTree(in: tmp)
        let topLevel = ["IMG_0001.JPEG", "dangling.jpg", "empty.png", "img2.JPG", "img10.jpg", "png-named.JPG", "truncated.jpg"]
        let flat = try Self.walk([root + "/", root + "/readme.txt"], separator: UInt8(ascii: "\n"), in: tmp)
        #expect(flat.items.map(\.path) == topLevel.map { root + "/" + $0 } + [root + "/readme.txt"])
        #expect(flat.items.first?.shardKey == "IMG_0001.JPEG")  // relative to the directory, as for an argument
        let deep = try Self.walk(["", root, ""], separator: 0, recursive: true, in: tmp)
        #expect(deep.items.map(\.path) == expected.map { root + "/" + $0.path })
        #expect(deep.emptyLines == 2)
        // A subdirectory named like an image is still a directory, on stdin too.
        let album = try Self.walk([root + "/album.jpg"], separator: UInt8(ascii: "\n"), in: tmp)
        #expect(album.items.map(\.path) == [root + "/album.jpg/inside.PNG"])
    }

    @Test func aFIFOOnStdinIsAnErrorItemInsteadOfABlockingRead() throws {
        let tmp = try BatchTestSupport.temporaryDirectory("stdin-fifo")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        mkfifo(tmp + "/pipe", 0o644)
        let (items, _) = try Self.walk([tmp + "/pipe"], separator: UInt8(ascii: "\n"), in: tmp)
        #expect(items.map(\.path) == [tmp + "/pipe"])
        #expect(items.first?.problem == "not a regular file (FIFO, socket or device)")
    }

    @Test func anUnreadableStdinIsOneErrorItemNotAnEndlessStream() throws {
        let tmp = try BatchTestSupport.temporaryDirectory("stdin-dir-fd")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let descriptor = open(tmp, O_RDONLY)  // read() on a directory fails with EISDIR, every time
        defer { close(descriptor) }
        let walker = InputWalker(sources: [.standardInput(separator: UInt8(ascii: "\n"))], recursive: false,
                                 filter: try InputFilter(), standardInputDescriptor: descriptor)
        let items = Array(sequence(state: walker) { $0.next() }.prefix(5))
        #expect(items.map(\.path) == ["<stdin>"])
        #expect(items.first?.problem?.contains("cannot read the list of paths") == true)
    }
}
