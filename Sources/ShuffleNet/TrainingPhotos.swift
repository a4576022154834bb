import Foundation
import ShuffleNetEngine

/// Why a training run cannot start: each message says which folder and what to do.
public enum TrainingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The training (or validation) folder does not exist or is not a directory.
    case notADirectory(String)
    /// The folder has no class subfolders.
    case noClasses(String)
    /// The folder has one class subfolder; a classifier needs two.
    case singleClass(String, label: String)
    /// These class folders hold no photo.
    case emptyClasses(String, labels: [String])
    /// These classes have fewer than 2 readable photos (with their counts).
    case tooFewPhotos(String, counts: [String: Int])
    /// The validation folder has classes the training folder has not.
    case unknownValidationClasses(String, labels: [String])
    /// An option is out of range (the message says which).
    case invalidOption(String)

    /// The problem, naming the folder and what to do.
    public var description: String {
        switch self {
        case .notADirectory(let path):
            return "\(path): not a directory (train needs DIR/<label>/ photo folders)"
        case .noClasses(let path):
            return "\(path): no class folders with photos in it; expected one subfolder per class, e.g. \(path)/cats/*.jpg and \(path)/dogs/*.jpg"
        case .singleClass(let path, let label):
            return "\(path): only one class (\"\(label)\"); a classifier needs at least two class folders"
        case .emptyClasses(let path, let labels):
            return "\(path): class folder\(labels.count == 1 ? "" : "s") without photos (.jpg/.jpeg/.png, any depth): \(labels.joined(separator: ", "))"
        case .tooFewPhotos(let path, let counts):
            let list = counts.keys.sorted().map { "\($0) (\(counts[$0]!))" }.joined(separator: ", ")
            // A list built in code has no folder to name.
            return "\(path.isEmpty ? "the photo list" : path): every class needs at least 2 readable photos; too few in: \(list)"
        case .unknownValidationClasses(let path, let labels):
            return "\(path): validation classes not among the training classes: \(labels.joined(separator: ", "))"
        case .invalidOption(let message):
            return message
        }
    }
}

/// The photos of a `DIR/<label>/...` tree: class names (the folder names, in natural order) and, per class,
/// its image files at any depth (as `classify -r` lists a directory).
public struct LabelledPhotos: Sendable, Equatable {
    /// The folder the photos were listed from ("" when built from a list).
    public let directory: String
    /// The class names.
    public let labels: [String]
    /// `(path, class index)` in label order, then natural order inside each class.
    public let photos: [(path: String, label: Int)]
    /// Files in the class folders not named like images (`.jpg`, `.jpeg`, `.png`): not used, listed so that
    /// nothing disappears silently (hidden files are not listed).
    public internal(set) var otherFiles: [String] = []

    /// Same folder, labels and photos in the same order.
    public static func == (a: Self, b: Self) -> Bool {
        a.directory == b.directory && a.labels == b.labels && a.photos.map(\.path) == b.photos.map(\.path)
            && a.photos.map(\.label) == b.photos.map(\.label)
    }

    /// Photos from a list: `photos[i].label` indexes `labels`.
    public init(directory: String = "", labels: [String], photos: [(path: String, label: Int)]) {
        self.directory = directory
        self.labels = labels
        self.photos = photos
    }

    /// Lists `directory`. Hidden folders (`.name`) are skipped. Throws for a missing directory, no class
    /// folders, a single class, or class folders without any photo. With `requireTwoClasses` false (a
    /// validation folder), one class is enough.
    public static func scan(directory: String, requireTwoClasses: Bool = true) throws(TrainingError) -> LabelledPhotos {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .notADirectory(directory)
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { name in
            var sub: ObjCBool = false
            return !name.hasPrefix(".") && FileManager.default.fileExists(atPath: join(directory, name), isDirectory: &sub) && sub.boolValue
        }
        let labels = InputNaturalOrder.sorted(names)
        guard !labels.isEmpty else { throw .noClasses(directory) }
        if requireTwoClasses, labels.count == 1 { throw .singleClass(directory, label: labels[0]) }
        var photos: [(String, Int)] = []
        var empty: [String] = []
        for (index, label) in labels.enumerated() {
            let walker = InputWalker(sources: [.path(join(directory, label))], recursive: true, filter: (try? InputFilter()) ?? InputFilter.images)
            var count = 0
            while let item = walker.next() {
                if item.problem != nil { continue }
                photos.append((item.path, index))
                count += 1
            }
            if count == 0 { empty.append(label) }
        }
        if !empty.isEmpty { throw .emptyClasses(directory, labels: empty) }
        var result = LabelledPhotos(directory: directory, labels: labels, photos: photos)
        let filter = InputFilter.images
        for label in labels {
            let folder = join(directory, label)
            guard let walk = FileManager.default.enumerator(atPath: folder) else { continue }
            var others: [String] = []
            while let relative = walk.nextObject() as? String {
                let name = (relative as NSString).lastPathComponent
                if name.hasPrefix(".") { continue }
                if walk.fileAttributes?[.type] as? FileAttributeType == .typeRegular, !filter.isImageNamed(name) {
                    others.append(join(folder, relative))
                }
            }
            result.otherFiles += InputNaturalOrder.sorted(others)
        }
        return result
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}

/// The splits' generator, so a `--seed` gives the same split everywhere: the engine's SplitMix64.
typealias SeededGenerator = SplitMix64

enum StratifiedSplit {
    /// Seeded Fisher-Yates (independent of the standard library's shuffle algorithm).
    static func shuffled<T>(_ items: [T], _ rng: inout SeededGenerator) -> [T] {
        var items = items
        if items.count < 2 { return items }
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            items.swapAt(i, j)
        }
        return items
    }

    /// Indices held out per class: `round(fraction * n)`, at least 1 when the fraction is positive, and at
    /// most `n - 1` so that every class keeps a training photo.
    static func holdOut(labels: [Int], classes: Int, fraction: Double, seed: UInt64) -> Set<Int> {
        var rng = SeededGenerator(seed: seed)
        var held = Set<Int>()
        guard fraction > 0 else { return held }
        for k in 0..<classes {
            let members = shuffled(labels.indices.filter { labels[$0] == k }, &rng)
            let count = min(members.count - 1, max(1, Int((fraction * Double(members.count)).rounded())))
            held.formUnion(members.prefix(max(0, count)))
        }
        return held
    }

    /// Fold of each item (0..<folds), stratified: each class's members, shuffled, dealt round-robin.
    static func folds(labels: [Int], classes: Int, folds: Int, seed: UInt64) -> [Int] {
        var rng = SeededGenerator(seed: seed ^ 0x5EED_F01D)
        var fold = [Int](repeating: 0, count: labels.count)
        var offset = 0
        for k in 0..<classes {
            let members = shuffled(labels.indices.filter { labels[$0] == k }, &rng)
            for (position, index) in members.enumerated() { fold[index] = (position + offset) % folds }
            offset += members.count
        }
        return fold
    }
}
