import Foundation
import ShuffleNetEngine
import ShuffleNetImage

/// Which pictures of each photo the network sees when extracting features for training (`train --augment`).
/// The centre crop (what `classify` sees) always comes first; then, when asked for, its mirror image and
/// shifted crops: the `shiftedCropSize` window in each corner of the centre crop (e.g. 200 of 224, a shift of
/// 24 pixels), preprocessed like a photo of its own (resized so its short side is 256, centre crop 224), each
/// followed by its mirror image when `flip` is on.
public struct FeatureViews: Sendable, Equatable, Codable {
    /// Also the mirror image of each view.
    public var flip: Bool
    /// Corner windows used: 0, 2 (top-left, bottom-right) or 4.
    public var shifts: Int
    /// Side of the corner windows, in pixels of the 224 x 224 centre crop.
    public var shiftedCropSize: Int

    /// Shifts are clamped to 0...4.
    public init(flip: Bool = false, shifts: Int = 0, shiftedCropSize: Int = 200) {
        self.flip = flip
        self.shifts = Swift.min(Swift.max(shifts, 0), 4)
        self.shiftedCropSize = shiftedCropSize
    }

    /// The centre crop only, as `classify` sees a photo.
    public static let centre = FeatureViews()
    /// `train`'s default augmentation.
    public static let augmented = FeatureViews(flip: true, shifts: 0)

    /// Views per photo, the centre crop included.
    public var count: Int { (1 + shifts) * (flip ? 2 : 1) }

    /// For people, e.g. "centre crop + mirror".
    public var description: String {
        count == 1 ? "centre crop only"
            : "centre crop\(flip ? " + mirror" : "")\(shifts > 0 ? " + \(shifts) shifted \(shiftedCropSize)px crops\(flip ? " and their mirrors" : "")" : "")"
    }
}

/// The pooled features of photos: the input of the network's final fully connected layer, `dimension` floats
/// (480 for 0.5x g3), decoded and preprocessed exactly as `ImageClassifier.classify` does.
public final class FeatureExtractor: @unchecked Sendable {
    /// The backbone, its preprocessing and its decoding options.
    public let classifier: ImageClassifier
    /// Features per photo: the final stage's channels (480 for 0.5x g3).
    public var dimension: Int { classifier.model.plan.finalChannels }
    private var workspace: Workspace?
    private let lock = NSLock()

    /// Features from the network of `classifier` (its classification layer is not used).
    public init(classifier: ImageClassifier) {
        self.classifier = classifier
    }

    /// Features from the network in the safetensors file at `path`.
    public convenience init(weightsAt path: String, decodingOptions: DecodingOptions = .default) throws(ClassifierError) {
        self.init(classifier: try ImageClassifier(weightsAt: path, decodingOptions: decodingOptions))
    }

    /// The features of one photo (the centre crop, as `classify` sees it).
    public func features(forImageAt path: String) throws(ClassifierError) -> [Float] {
        var input = [Float](repeating: 0, count: Preprocessor.tensorCount)
        _ = try input.withUnsafeMutableBufferPointer { buffer throws(ClassifierError) in
            try classifier.writeInput(forImageAt: path, into: buffer)
        }
        return try features(forInput: input)
    }

    /// The features of an already preprocessed `3 x 224 x 224` input.
    ///
    /// - Throws: `ClassifierError.invalidInput` when `input` does not hold exactly `Preprocessor.tensorCount` floats.
    public func features(forInput input: [Float]) throws(ClassifierError) -> [Float] {
        guard input.count == classifier.model.inputCount else {
            throw .invalidInput(.inputCount(expected: classifier.model.inputCount, actual: input.count))
        }
        lock.lock()
        defer { lock.unlock() }
        let planned = workspace ?? classifier.model.makeWorkspace()
        workspace = planned
        var runner = Runner(model: classifier.model, workspace: planned)
        return input.withUnsafeBufferPointer { runner.features($0.baseAddress!) }
    }

    /// `vector / ||vector||` (unchanged when all zero), for cosine similarity.
    public static func normalized(_ vector: [Float]) -> [Float] {
        let norm = Foundation.sqrt(vector.reduce(0.0) { $0 + Double($1) * Double($1) })
        return norm > 0 ? vector.map { Float(Double($0) / norm) } : vector
    }

    /// One photo's result: its views' features (centre first) and any decoder warnings.
    public struct Extracted: Sendable {
        /// One feature vector per view (`FeatureViews`), the centre crop first.
        public let views: [[Float]]
        /// Decoder warnings, one line each, naming the file.
        public let warnings: [String]
    }

    /// Extracts the features of every path on `threads` threads (each with its own network workspace),
    /// results in input order; `progress` is called (from any thread) after each photo.
    public func extract(paths: [String], views: FeatureViews = .centre, threads: Int = AvailableCPUs.count,
                        progress: (@Sendable (_ failed: Bool) -> Void)? = nil) -> [Result<Extracted, ClassifierError>] {
        let results = ResultSlots<Result<Extracted, ClassifierError>>(count: paths.count)
        let next = AtomicCounter()
        let group = DispatchGroup()
        for _ in 0..<max(1, min(threads, paths.count)) {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                var runner = Runner(model: classifier.model, workspace: classifier.model.makeWorkspace())
                var tensor = [Float](repeating: 0, count: Preprocessor.tensorCount)
                while true {
                    let index = next.increment()
                    if index >= paths.count { break }
                    let result = Result { () throws(ClassifierError) in
                        try extractOne(paths[index], views: views, runner: &runner, tensor: &tensor)
                    }
                    results.set(index, result)
                    if case .failure = result { progress?(true) } else { progress?(false) }
                }
            }
            thread.stackSize = 8 << 20  // libjpeg and libpng keep sizeable structures on the stack
            thread.start()
        }
        group.wait()
        return results.values
    }

    private func extractOne(_ path: String, views: FeatureViews, runner: inout Runner, tensor: inout [Float]) throws(ClassifierError) -> Extracted {
        let prepared = try tensor.withUnsafeMutableBufferPointer { buffer throws(ClassifierError) in
            try classifier.writeInput(forImageAt: path, into: buffer)
        }
        var out: [[Float]] = []
        out.reserveCapacity(views.count)
        func run(crop: RGBImage, full: Bool) throws(ClassifierError) {
            try tensor.withUnsafeMutableBufferPointer { buffer throws(ClassifierError) in
                do throws(PreprocessingError) {
                    if full {
                        try classifier.preprocessor.writeTensor(from: crop, into: buffer)
                    } else {
                        try classifier.preprocessor.writeTensor(fromCrop: crop, into: buffer)
                    }
                } catch {
                    throw .preprocessing(path: path, error)
                }
            }
            out.append(tensor.withUnsafeBufferPointer { runner.features($0.baseAddress!) })
        }
        out.append(tensor.withUnsafeBufferPointer { runner.features($0.baseAddress!) })
        let crop = prepared.crop
        if views.flip { try run(crop: Self.mirrored(crop), full: false) }
        let size = min(views.shiftedCropSize, crop.width, crop.height)
        let corners = [(0, 0), (crop.width - size, crop.height - size), (crop.width - size, 0), (0, crop.height - size)]
        for (left, top) in corners.prefix(views.shifts) {
            let window = Self.window(crop, left: left, top: top, size: size)
            try run(crop: window, full: true)
            if views.flip { try run(crop: Self.mirrored(window), full: true) }
        }
        return Extracted(views: out, warnings: prepared.warnings)
    }

    static func mirrored(_ image: RGBImage) -> RGBImage {
        var pixels = image.pixels
        let w = image.width
        for y in 0..<image.height {
            for x in 0..<w {
                let from = 3 * (y * w + (w - 1 - x)), to = 3 * (y * w + x)
                pixels[to] = image.pixels[from]; pixels[to + 1] = image.pixels[from + 1]; pixels[to + 2] = image.pixels[from + 2]
            }
        }
        return RGBImage(checkedWidth: w, height: image.height, pixels: pixels)  // the same size, mirrored
    }

    static func window(_ image: RGBImage, left: Int, top: Int, size: Int) -> RGBImage {
        var pixels = [UInt8]()
        pixels.reserveCapacity(3 * size * size)
        for y in top..<(top + size) {
            let start = 3 * (y * image.width + left)
            pixels.append(contentsOf: image.pixels[start..<(start + 3 * size)])
        }
        return RGBImage(checkedWidth: size, height: size, pixels: pixels)  // size rows of size pixels
    }

    /// One thread's network runs: the workspace and the logits and features buffers it reuses.
    struct Runner {
        let model: ShuffleNetModel
        let workspace: Workspace
        var logits: [Float]
        var pooled: [Float]
        init(model: ShuffleNetModel, workspace: Workspace) {
            self.model = model
            self.workspace = workspace
            logits = [Float](repeating: 0, count: model.configuration.numClasses)
            pooled = [Float](repeating: 0, count: model.plan.finalChannels)
        }
        mutating func features(_ input: UnsafePointer<Float>) -> [Float] {
            let (model, workspace) = (self.model, self.workspace)
            logits.withUnsafeMutableBufferPointer { y in
                pooled.withUnsafeMutableBufferPointer { f in
                    model.run(input: input, logits: y.baseAddress!, workspace: workspace, features: f.baseAddress!)
                }
            }
            return pooled
        }
    }
}

/// Results written by several threads, each to its own index (shared with the trainer in ShuffleNetBatch).
package final class ResultSlots<T>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = NSLock()
    package init(count: Int) { slots = [T?](repeating: nil, count: count) }
    package func set(_ index: Int, _ value: T) { lock.lock(); slots[index] = value; lock.unlock() }
    package var values: [T] { lock.lock(); defer { lock.unlock() }; return slots.map { $0! } }
}

package final class AtomicCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    package init() {}
    /// Returns the value before adding one.
    package func increment() -> Int { lock.lock(); defer { value += 1; lock.unlock() }; return value }
}
