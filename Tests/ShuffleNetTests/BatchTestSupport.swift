import Foundation
import SharedTestData
import ShuffleNet
import ShuffleNetBatch
import ShuffleNetEngine

/// Temporary trees of images and bad files for the batch tests, built at test time from the two committed
/// sample photos (Scripts/samples), plus a random-weights file so that no download or shared data is needed.
enum BatchTestSupport {
    static let samples = SharedTestData.packageRoot + "/Scripts/samples"
    static let catJPEG = samples + "/chelsea-cat.jpg"
    static let cupPNG = samples + "/coffee-cup.png"

    static func temporaryDirectory(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "shufflenet-\(name)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The judged tree: nested folders, spaces, upper-case extensions, a comma and quotes in a name, a folder
    /// named like an image, a PNG named .JPG, and bad files (text named .jpg, empty, truncated, dangling link).
    /// Returns the root and the image-named files relative to it (each must appear exactly once), with the
    /// bad ones marked.
    static func makeJudgedTree(in parent: String) throws -> (root: String, expected: [(path: String, bad: Bool)]) {
        let root = parent + "/photos"
        let fm = FileManager.default
        for dir in ["sub dir/deeper", "album.jpg", "empty folder", "Vacation 2024"] {
            try fm.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        let cat = try Data(contentsOf: URL(fileURLWithPath: catJPEG))
        let cup = try Data(contentsOf: URL(fileURLWithPath: cupPNG))
        let files: [(String, Data)] = [
            ("img10.jpg", cat), ("img2.JPG", cat), ("IMG_0001.JPEG", cat),
            ("sub dir/cup, \"quoted\".jpeg", cup), ("sub dir/deeper/photo 1.png", cup),
            ("album.jpg/inside.PNG", cup), ("Vacation 2024/beach.jpg", cat),
            ("png-named.JPG", cup),                    // content decides: a PNG named like a JPEG
            ("sub dir/notes.jpg", Data("not an image\n".utf8)),
            ("empty.png", Data()),
            ("truncated.jpg", cat.prefix(2500)),
            ("readme.txt", Data("skip me".utf8)),       // not image-named: no row
            ("Vacation 2024/clip.mov", cat),            // not image-named: no row
        ]
        for (name, data) in files {
            guard fm.createFile(atPath: root + "/" + name, contents: data) else { throw CocoaError(.fileWriteUnknown) }
        }
        try fm.createSymbolicLink(atPath: root + "/dangling.jpg", withDestinationPath: "missing.jpg")
        try fm.createSymbolicLink(atPath: root + "/link to sub", withDestinationPath: "sub dir")  // not followed
        let expected: [(String, Bool)] = [
            ("IMG_0001.JPEG", false), ("Vacation 2024/beach.jpg", false), ("album.jpg/inside.PNG", false),
            ("dangling.jpg", true), ("empty.png", true), ("img2.JPG", false), ("img10.jpg", false),
            ("png-named.JPG", false), ("sub dir/cup, \"quoted\".jpeg", false), ("sub dir/deeper/photo 1.png", false),
            ("sub dir/notes.jpg", true), ("truncated.jpg", true),
        ]
        return (root, expected)
    }

    /// `count` hard links to the cat photo in folders of 50, for runs long enough to kill.
    static func makeLargeTree(in parent: String, count: Int) throws -> String {
        let root = parent + "/many"
        for i in 0..<count {
            let dir = root + "/d\(i / 50)"
            if i % 50 == 0 { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            try FileManager.default.linkItem(atPath: catJPEG, toPath: dir + "/img_\(i).jpg")
        }
        return root
    }

    /// A random-weights file for ShuffleNet v1 0.5x g=3 with the metadata `classify` needs.
    static func randomWeightsFile(in directory: String) throws -> String {
        let random = ShuffleNetWeights.random(configuration: try ShuffleNetConfiguration(scale: 0.5, groups: 3), seed: 7)
        let weights = try ShuffleNetWeights(configuration: random.configuration, tensors: random.tensors,
                                            metadata: ["preprocessing": "megvii", "labels": "imagenet-1k"])
        let path = directory + "/random.safetensors"
        try weights.safeTensors().write(to: path)
        return path
    }
}
