import Foundation
import ShuffleNetEngine
import Synchronization
import ShuffleNetImage

/// One of the top-k answers for an image.
public struct Prediction: Sendable, Equatable, Codable {
    /// The class index, `0..<numClasses` (the ImageNet index for the published weights).
    public let index: Int
    /// The class name (ImageNet's short name, or `class N` for weights without labels).
    public let label: String
    /// Softmax probability over all classes, in `0...1`.
    public let probability: Double
}

/// The embeddable classifier: weights + matching preprocessing + labels, ready to classify files or
/// decoded images. Loading is done once; each `classify` reuses the planned workspace (calls are
/// serialised by a lock, so one instance may be shared; use one instance per thread for parallelism).
public final class ImageClassifier: @unchecked Sendable {
    /// The weights as loaded (fp32 before BatchNorm folding, or int8 as `shufflenet quantize` wrote them).
    public let weights: NetworkWeights
    /// The planned network the classifier runs (224x224 input).
    public let model: ShuffleNetModel
    /// Resize, crop and normalisation as the weights' metadata asks (`preprocessing`).
    public let preprocessor: Preprocessor
    /// One name per class, in index order.
    public let labels: [String]
    /// How files are decoded: EXIF orientation, truncated data, pixel limit.
    public let decodingOptions: DecodingOptions
    /// Memory all decoding through this classifier may hold at once, whatever the number of threads
    /// (`classify --memory-limit`): see `DecodeMemoryBudget`.
    public let memoryBudget: DecodeMemoryBudget
    /// Made on the first `logits` call (guarded by `lock`): a classifier used only through `BatchClassifier`,
    /// whose workers have their own, never touches its pages.
    private var workspace: Workspace?
    private let lock = NSLock()
    /// Which int8 answers are recomputed in fp32 (`Int8Recheck`); ignored for fp32 weights.
    public let int8Recheck: Int8Recheck
    /// Whether near-tie int8 answers will be recomputed: int8 weights that carry recheck weights, rechecking on.
    public let rechecksNearTies: Bool
    /// The fp32 network near ties are recomputed with (`ShuffleNetModel(rechecking:)`), made on the first one
    /// (guarded by `recheckLock`): a run without near ties never holds it.
    private var recheckModelStorage: ShuffleNetModel?
    private let recheckLock = NSLock()
    /// The workspace `logits(forInput:)` runs the recheck model in (guarded by `lock`).
    private var recheckWorkspace: Workspace?
    private let rechecks = Atomic<Int>(0)

    /// Loads a safetensors weights file, fp32 or int8 (its `precision` metadata decides), and prepares the classifier.
    /// - Throws: `ClassifierError.weights` when the file is missing, damaged or not ShuffleNet v1 weights,
    ///   `ClassifierError.unsupportedWeights` when its metadata asks for preprocessing this build lacks.
    public convenience init(weightsAt path: String, decodingOptions: DecodingOptions = .default,
                            memoryBudget: DecodeMemoryBudget = DecodeMemoryBudget(),
                            int8Recheck: Int8Recheck = .standard) throws(ClassifierError) {
        let weights: NetworkWeights
        do {
            weights = try NetworkWeights(contentsOf: path)
        } catch {
            throw .weights(error)
        }
        try self.init(weights: weights, source: path, decodingOptions: decodingOptions, memoryBudget: memoryBudget,
                      int8Recheck: int8Recheck)
    }

    /// Prepares a classifier for weights already loaded (or converted); `source` names them in errors.
    /// - Throws: `ClassifierError.unsupportedWeights` when the metadata asks for unknown preprocessing.
    public convenience init(weights: ShuffleNetWeights, source: String = "weights",
                            decodingOptions: DecodingOptions = .default,
                            memoryBudget: DecodeMemoryBudget = DecodeMemoryBudget()) throws(ClassifierError) {
        try self.init(weights: .fp32(weights), source: source, decodingOptions: decodingOptions, memoryBudget: memoryBudget)
    }

    /// Prepares a classifier for weights of either precision already loaded; `source` names them in errors.
    /// - Throws: `ClassifierError.unsupportedWeights` when the metadata asks for unknown preprocessing.
    public init(weights: NetworkWeights, source: String = "weights",
                decodingOptions: DecodingOptions = .default,
                memoryBudget: DecodeMemoryBudget = DecodeMemoryBudget(),
                int8Recheck: Int8Recheck = .standard) throws(ClassifierError) {
        let styleName = weights.metadata[ShuffleNetWeights.MetadataKey.preprocessing] ?? ""
        guard let style = PreprocessingStyle(rawValue: styleName) else {
            throw .unsupportedWeights(path: source, "metadata preprocessing \"\(styleName)\" is not one of \(PreprocessingStyle.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.weights = weights
        self.decodingOptions = decodingOptions
        self.memoryBudget = memoryBudget
        self.int8Recheck = int8Recheck
        if case .int8(let quantized) = weights, quantized.recheck != nil {
            rechecksNearTies = int8Recheck.isEnabled
        } else {
            rechecksNearTies = false
        }
        do {
            model = try ShuffleNetModel(weights: weights, inputSize: Preprocessor.cropSize)
        } catch {
            throw .invalidInput(error)
        }
        preprocessor = Preprocessor(style: style)
        labels = try TrainedHeadMetadata.labels(metadata: weights.metadata, classes: weights.configuration.numClasses, source: source)
    }

    /// Decodes the file (JPEG or PNG, by content) and classifies it.
    public func classify(imageAt path: String, topK: Int = 5) throws(ClassifierError) -> [Prediction] {
        var input = [Float](repeating: 0, count: Preprocessor.tensorCount)
        _ = try input.withUnsafeMutableBufferPointer { buffer throws(ClassifierError) in
            try writeInput(forImageAt: path, into: buffer)  // the crop and warnings it also returns are not needed here
        }
        return Self.topPredictions(logits: try logits(forInput: input), labels: labels, k: topK)
    }

    /// What `writeInput` learned on the way: decoder warnings (e.g. recovered truncated data) and the
    /// 224x224 crop the network saw.
    public struct PreparedInput: Sendable {
        /// Decoder warnings, each prefixed with the path (e.g. recovered truncated data).
        public let warnings: [String]
        /// The 224x224 crop the network saw, before normalisation.
        public let crop: RGBImage
    }

    /// Decodes the file and writes the network input (`Preprocessor.tensorCount` floats) into `buffer`: the one
    /// path from a file to the network, shared by `classify(imageAt:)` and batch classification, so both
    /// always see the same pixels. Only the pixels the crop reads are decoded (`ImageDecoder.withSampledDecode`),
    /// within `memoryBudget`.
    @discardableResult
    public func writeInput(forImageAt path: String, into buffer: UnsafeMutableBufferPointer<Float>) throws(ClassifierError) -> PreparedInput {
        guard buffer.count == Preprocessor.tensorCount else {
            throw .invalidInput(.inputCount(expected: Preprocessor.tensorCount, actual: buffer.count))
        }
        let (crop, warnings): (RGBImage, [String])
        do {
            (crop, warnings) = try ImageDecoder.withSampledDecode(
                contentsOf: path, options: decodingOptions, budget: memoryBudget,
                selecting: { [preprocessor] width, height in preprocessor.pixelsRead(width: width, height: height) },
                body: { [preprocessor] decoded in (preprocessor.crop(decoded.image), decoded.warnings) })
        } catch {
            throw .image(error)
        }
        do {
            try preprocessor.writeTensor(fromCrop: crop, into: buffer)
        } catch {
            throw .preprocessing(path: path, error)
        }
        return PreparedInput(warnings: warnings.map { "\(path): \($0)" }, crop: crop)
    }

    /// The `topK` most probable classes of an already decoded image (any size; it is resized and cropped).
    public func classify(_ image: RGBImage, topK: Int = 5) -> [Prediction] {
        Self.topPredictions(logits: logits(for: image), labels: labels, k: topK)
    }

    /// Raw network outputs for a decoded image, preprocessed as the weights expect.
    public func logits(for image: RGBImage) -> [Float] {
        // The preprocessor always makes exactly the model's input.
        logits(checkedInput: preprocessor.tensor(from: image))
    }

    /// Raw network outputs for an already preprocessed `3 x 224 x 224` input (`Preprocessor.tensorCount` floats).
    ///
    /// - Throws: `ClassifierError.invalidInput` when `input` does not hold exactly `Preprocessor.tensorCount`
    ///   floats.
    public func logits(forInput input: [Float]) throws(ClassifierError) -> [Float] {
        guard input.count == model.inputCount else {
            throw .invalidInput(.inputCount(expected: model.inputCount, actual: input.count))
        }
        return logits(checkedInput: input)
    }

    /// `logits(forInput:)` for an input known to hold `model.inputCount` floats; int8 near ties are rechecked.
    private func logits(checkedInput input: [Float]) -> [Float] {
        lock.lock()
        defer { lock.unlock() }
        let planned = workspace ?? model.makeWorkspace()
        workspace = planned
        var logits = [Float](repeating: 0, count: model.configuration.numClasses)
        input.withUnsafeBufferPointer { x in
            logits.withUnsafeMutableBufferPointer { y in
                model.run(input: x.baseAddress!, logits: y.baseAddress!, workspace: planned)
                recheckNearTie(input: x.baseAddress!, logits: y, workspace: &recheckWorkspace)
            }
        }
        return logits
    }

    /// The one place an int8 near tie is rechecked (`classify` one by one and the batch pipeline): when `logits`,
    /// this classifier's model's output for `input`, have their top two closer than `int8Recheck.margin` and the
    /// weights carry recheck weights, overwrites them with the recheck network's (run in `workspace`, made on first
    /// use, in ordinary pages), counts it in `recheckedCount` and returns true.
    @discardableResult
    package func recheckNearTie(input: UnsafePointer<Float>, logits: UnsafeMutableBufferPointer<Float>,
                                workspace: inout Workspace?) -> Bool {
        guard rechecksNearTies, int8Recheck.isNearTie(UnsafeBufferPointer(logits)), let fp32 = recheckModel() else { return false }
        let rechecking = workspace ?? fp32.makeCompactWorkspace()
        workspace = rechecking
        fp32.run(input: input, logits: logits.baseAddress!, workspace: rechecking)
        rechecks.add(1, ordering: .relaxed)
        return true
    }

    /// The fp32 network near ties are recomputed with, made on the first call and shared by every thread; nil
    /// unless `rechecksNearTies`.
    private func recheckModel() -> ShuffleNetModel? {
        guard rechecksNearTies, case .int8(let quantized) = weights else { return nil }
        recheckLock.lock()
        defer { recheckLock.unlock() }
        if recheckModelStorage == nil {
            // Cannot throw here: the input size is the one `model` was planned for.
            recheckModelStorage = try? ShuffleNetModel(rechecking: quantized, inputSize: model.plan.inputSize)
        }
        return recheckModelStorage
    }

    /// How many answers so far were int8 near ties recomputed with fp32 activations (all threads, batch runs too).
    public var recheckedCount: Int { rechecks.load(ordering: .relaxed) }

    /// Softmax over all classes (in Double, after subtracting the maximum, so it cannot overflow), then the
    /// `k` most probable, ties broken by the lower index. Selection keeps a sorted list of `k`, so ranking costs
    /// about one pass over the logits for the usual small `k`.
    public static func topPredictions(logits: [Float], labels: [String], k: Int) -> [Prediction] {
        guard let maxLogit = logits.max(), k > 0 else { return [] }
        var total = 0.0
        for value in logits { total += Foundation.exp(Double(value - maxLogit)) }
        func ranksBefore(_ a: Int, _ b: Int) -> Bool { logits[a] > logits[b] || (logits[a] == logits[b] && a < b) }
        var best: [Int] = []
        best.reserveCapacity(min(k, logits.count) + 1)
        for i in logits.indices {
            if best.count == k, let last = best.last, !ranksBefore(i, last) { continue }
            let position = best.firstIndex { ranksBefore(i, $0) } ?? best.count
            best.insert(i, at: position)
            if best.count > k { best.removeLast() }
        }
        return best.map { i in
            Prediction(index: i, label: i < labels.count ? labels[i] : "class \(i)",
                       probability: Foundation.exp(Double(logits[i] - maxLogit)) / total)
        }
    }
}
