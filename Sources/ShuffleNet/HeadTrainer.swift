import Foundation
import ShuffleNetEngine

/// Trains a new classifier head (softmax regression on the pooled features) for the classes of a
/// `DIR/<label>/...` tree, on top of a fixed backbone, and makes a weights file that `ImageClassifier` loads
/// like any other, with the user's class names (`shufflenet train`).
///
/// Steps: list the photos; report photos whose content appears in two classes (they are left out); hold out a
/// stratified, seeded validation part (or use a validation folder); extract features (centre crop plus the
/// augmented views for training photos) on all threads; standardise the features with the training part's
/// mean and standard deviation; choose C by stratified k-fold cross-validation on the training part (grouped
/// by photo, scored on centre crops); fit on the whole training part; score the validation part. The
/// standardisation is folded into the classifier, so the file needs nothing beyond the usual network.
public struct HeadTrainer: Sendable {
    /// How a head is trained; the defaults are `shufflenet train`'s.
    public struct Options: Sendable {
        /// Fraction of each class held out for validation (ignored with `validationPhotos`); 0: none.
        public var validationFraction = 0.2
        /// The pictures of each training photo the network sees (augmentation).
        public var views = FeatureViews.augmented
        /// Seeds the validation split and the cross-validation folds: the same seed, the same head.
        public var seed: UInt64 = 1
        /// Cross-validation folds (fewer when a class has fewer training photos).
        public var folds = 5
        /// Inverse regularisation strengths tried by cross-validation (as scikit-learn's `C`).
        public var cGrid: [Double] = [0.01, 0.03, 0.1, 0.3, 1]
        /// Standardise each feature (mean 0, variance 1 on the training part) before fitting.
        public var standardize = false
        /// What the regression sees: the pooled features, or the backbone classifier's outputs on them.
        public var basis = FeatureBasis.backboneLogits
        /// The penalty on the head's weights.
        public var penalty = RegularizationPenalty.l1
        /// After scoring the validation part, fit the saved head again on all photos (training and validation)
        /// with the chosen C. The report's validation figures are those of the head fitted without them.
        public var refitOnAllPhotos = true
        /// Threads for the feature extraction (and the folds).
        public var threads = AvailableCPUs.count
        /// `shufflenet train`'s defaults.
        public init() {}
    }

    /// The space the softmax regression is fitted in. Both are linear in the pooled features, so either folds
    /// into one fully connected layer on them; they differ in what the L2 penalty favours. `backboneLogits`
    /// (the backbone's 1000 ImageNet scores) makes directions the backbone already separates (say "ant" vs
    /// "bee") cheap, which measured better on small sets (README, "train").
    public enum FeatureBasis: String, Sendable, Codable, CaseIterable {
        /// The pooled features themselves (480 values for 0.5x g3).
        case pooled
        /// The backbone classifier's 1000 ImageNet scores, a linear map of the pooled features.
        case backboneLogits = "backbone-logits"
    }

    /// Everything a run found out, for the report and (in short) the file's metadata.
    public struct Report: Sendable, Codable {
        /// One value of C tried by cross-validation.
        public struct CrossValidation: Sendable, Codable {
            /// The inverse regularisation strength.
            public let c: Double
            /// Fraction of the training part's centre crops classified right when held out.
            public let accuracy: Double
            /// Mean negative log probability of the true class when held out.
            public let logLoss: Double
        }
        /// Photos with the same content (SHA-256) in two classes, or in the training and the validation part.
        public struct Duplicate: Sendable, Codable {
            /// The content's SHA-256, hex.
            public let sha256: String
            /// The files.
            public let paths: [String]
            /// The class of each file.
            public let labels: [String]
            /// The files left out: all of them when the classes differ (the label is ambiguous); the validation
            /// copies when one photo is in both parts with the same class (it would flatter the validation figures).
            public let leftOut: [String]
        }
        /// The class names, in the head's row order.
        public internal(set) var labels: [String] = []
        /// Training photos per class (readable, duplicates left out).
        public internal(set) var trainingPhotos: [Int] = []
        /// Validation photos per class.
        public internal(set) var validationPhotos: [Int] = []
        /// The pictures of each training photo the network saw.
        public internal(set) var views = FeatureViews.centre
        /// `views` for people.
        public internal(set) var viewsDescription = ""
        /// Whether the features were standardised.
        public internal(set) var standardize = true
        /// What the regression was fitted on.
        public internal(set) var basis = FeatureBasis.backboneLogits
        /// The penalty on the head's weights.
        public internal(set) var penalty = RegularizationPenalty.l1
        /// The seed of the split and the folds.
        public internal(set) var seed: UInt64 = 1
        /// Cross-validation folds used.
        public internal(set) var folds = 0
        /// Cross-validation results, one per C, C ascending.
        public internal(set) var crossValidation: [CrossValidation] = []
        /// The C with the best cross-validation accuracy (ties: lower log loss).
        public internal(set) var chosenC = 0.0
        /// Accuracy on the training part's centre crops.
        public internal(set) var trainingAccuracy = 0.0
        /// Accuracy on the validation part; nil without one.
        public internal(set) var validationAccuracy: Double?
        /// Validation accuracy of each class (nil for a class without validation photos).
        public internal(set) var perClassAccuracy: [Double?] = []
        /// `confusion[true][predicted]` counts on the validation part.
        public internal(set) var confusion: [[Int]] = []
        /// Photos that could not be read, with the reason (left out).
        public internal(set) var unreadable: [String] = []
        /// Photos reported as duplicates (see `Duplicate`).
        public internal(set) var duplicates: [Duplicate] = []
        /// Where the validation photos came from, for people.
        public internal(set) var validationSource = ""
        /// Pooled features per photo.
        public internal(set) var featureDimension = 0
        /// Dimension the regression was fitted in (the pooled features or the backbone's classes).
        public internal(set) var crossValidationDimension = 0
        /// The backbone's weights file, as given.
        public internal(set) var backbone = ""
        /// Wall time of the feature extraction.
        public internal(set) var extractionSeconds = 0.0
        /// Wall time of cross-validation and fitting.
        public internal(set) var fittingSeconds = 0.0
        /// Optimiser iterations, all fits together.
        public internal(set) var iterations = 0
        /// The validation photos classified wrong, with their true and predicted class.
        public internal(set) var validationMistakes: [String] = []
        /// Weights of the fitted head (in its basis) that are not zero.
        public internal(set) var nonzeroWeights = 0
        /// The saved head was fitted again on all photos after the validation figures were taken.
        public internal(set) var refitOnAllPhotos = false
    }

    /// A trained head: the network to save or classify with, and the run's report.
    public struct Result: Sendable {
        /// The backbone with the new classifier and the class names in its metadata; save it with
        /// `weights.safeTensors().write(to:)`, or classify with `ImageClassifier(weights:)`.
        public let weights: ShuffleNetWeights
        /// What the run found out.
        public let report: Report
        package let model: SoftmaxRegression
    }

    /// The network whose pooled features the head is trained on (its preprocessing and decoding options too).
    public let backbone: ImageClassifier
    /// How the head is trained.
    public let options: Options

    /// A trainer on top of `backbone`.
    public init(backbone: ImageClassifier, options: Options = Options()) {
        self.backbone = backbone
        self.options = options
    }

    /// Trains on `training`, holding out `options.validationFraction` of it, or validating on `validation`.
    /// `progress(failed)` is called from any thread after each photo's features; `warn` gets decoder warnings.
    ///
    /// - Throws: `TrainingError` for options out of range, validation classes unknown to the training set, or a
    ///   class left with fewer than 2 readable photos.
    public func train(_ training: LabelledPhotos, validation: LabelledPhotos? = nil, backboneName: String = "",
                      progress: (@Sendable (_ failed: Bool) -> Void)? = nil,
                      warn: (@Sendable (String) -> Void)? = nil) throws(TrainingError) -> Result {
        guard options.validationFraction >= 0, options.validationFraction < 1 else {
            throw .invalidOption("--validation must be at least 0 and below 1 (got \(options.validationFraction))")
        }
        guard !options.cGrid.isEmpty, options.cGrid.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw .invalidOption("the C grid needs positive values")
        }
        guard options.folds >= 2 else { throw .invalidOption("cross-validation needs at least 2 folds") }
        // The new head is written into fp32 weights (the backbone's, with its classifier replaced).
        guard let backboneWeights = backbone.weights.float32 else {
            throw .invalidOption("the backbone \(backboneName.isEmpty ? "weights are" : "\(backboneName) is") int8; train on fp32 weights (then quantize the result)")
        }
        let labels = training.labels
        var report = Report()
        report.labels = labels
        report.views = options.views
        report.viewsDescription = options.views.description
        report.standardize = options.standardize
        report.basis = options.basis
        report.penalty = options.penalty
        report.seed = options.seed
        report.backbone = backboneName
        report.featureDimension = backbone.model.plan.finalChannels
        // Validation photos mapped onto the training classes.
        var validationItems: [(path: String, label: Int)] = []
        if let validation {
            let unknown = validation.labels.filter { !labels.contains($0) }
            if !unknown.isEmpty { throw .unknownValidationClasses(validation.directory, labels: unknown) }
            validationItems = validation.photos.map { ($0.path, labels.firstIndex(of: validation.labels[$0.label])!) }
            report.validationSource = validation.directory
        }
        // Same content in two classes: reported and left out (its label is ambiguous). The same photo in the
        // training and the validation folder with one class: reported, and its validation copies left out.
        var all = training.photos + validationItems
        var byHash: [String: [Int]] = [:]
        var hashes: [String?] = []
        for (i, photo) in all.enumerated() {
            let hash = try? FileDigest.sha256Hex(ofFileAtPath: photo.path)
            hashes.append(hash)
            if let hash { byHash[hash, default: []].append(i) }
        }
        var excluded = Set<Int>()
        for hash in byHash.keys.sorted() {
            let members = byHash[hash]!
            let classes = Set(members.map { all[$0].label })
            let inValidation = members.filter { $0 >= training.photos.count }
            let leftOut = classes.count > 1 ? members : inValidation.count < members.count ? inValidation : []
            if !leftOut.isEmpty {
                report.duplicates.append(.init(sha256: hash, paths: members.map { all[$0].path },
                                               labels: members.map { labels[all[$0].label] },
                                               leftOut: leftOut.map { all[$0].path }))
                excluded.formUnion(leftOut)
            }
        }
        // The split (by photo), seeded and stratified.
        let trainingCount = training.photos.count
        var isValidation = [Bool](repeating: false, count: all.count)
        if validation != nil {
            for i in trainingCount..<all.count { isValidation[i] = true }
        } else {
            let held = StratifiedSplit.holdOut(labels: training.photos.map(\.label), classes: labels.count,
                                               fraction: options.validationFraction, seed: options.seed)
            for i in held { isValidation[i] = true }
            report.validationSource = options.validationFraction > 0 ? "held out \(Int((options.validationFraction * 100).rounded()))% of each class (seed \(options.seed))" : "none"
        }
        let kept = all.indices.filter { !excluded.contains($0) }
        all = kept.map { all[$0] }
        isValidation = kept.map { isValidation[$0] }
        // Features: training photos with their augmented views, validation photos centre only.
        let start = DispatchTime.now().uptimeNanoseconds
        let trainingIndices = all.indices.filter { !isValidation[$0] }
        let validationIndices = all.indices.filter { isValidation[$0] }
        let extractor = FeatureExtractor(classifier: backbone)
        var extracted = [Swift.Result<FeatureExtractor.Extracted, ClassifierError>?](repeating: nil, count: all.count)
        let validationViews = options.refitOnAllPhotos ? options.views : FeatureViews.centre
        for (indices, views) in [(trainingIndices, options.views), (validationIndices, validationViews)] {
            let results = extractor.extract(paths: indices.map { all[$0].path }, views: views, threads: options.threads, progress: progress)
            for (i, result) in zip(indices, results) { extracted[i] = result }
        }
        report.extractionSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let basis = Basis(backbone: backboneWeights, kind: options.basis)
        var readable: [(label: Int, views: [[Float]], validation: Bool, path: String)] = []
        for (i, result) in extracted.enumerated() {
            switch result! {
            case .success(let photo):
                photo.warnings.forEach { warn?($0) }
                readable.append((all[i].label, photo.views.map(basis.apply), isValidation[i], all[i].path))
            case .failure(let error):
                report.unreadable.append("\(error)")
            }
        }
        var counts = [Int](repeating: 0, count: labels.count)
        for photo in readable { counts[photo.label] += 1 }
        let short = labels.indices.filter { counts[$0] < 2 }
        if !short.isEmpty {
            throw .tooFewPhotos(training.directory, counts: Dictionary(uniqueKeysWithValues: short.map { (labels[$0], counts[$0]) }))
        }
        let train = readable.filter { !$0.validation }
        let held = readable.filter(\.validation)
        var trainCounts = [Int](repeating: 0, count: labels.count)
        for photo in train { trainCounts[photo.label] += 1 }
        if let missing = trainCounts.firstIndex(of: 0) {
            throw .tooFewPhotos(training.directory, counts: [labels[missing]: 0])
        }
        report.trainingPhotos = trainCounts
        report.validationPhotos = labels.indices.map { k in held.filter { $0.label == k }.count }

        let fitStart = DispatchTime.now().uptimeNanoseconds
        let dimension = basis.dimension
        report.crossValidationDimension = dimension
        let classes = labels.count
        // Cross-validation over the C grid, folds grouped by photo.
        let folds = max(2, min(options.folds, trainCounts.min()!))
        report.folds = folds
        let foldOf = StratifiedSplit.folds(labels: train.map(\.label), classes: classes, folds: folds, seed: options.seed)
        let grid = options.cGrid.sorted()
        var correct = [Int](repeating: 0, count: grid.count)
        var logLoss = [Double](repeating: 0, count: grid.count)
        let standardize = options.standardize
        let penalty = options.penalty
        let foldResults = ResultSlots<[(Int, Double)]>(count: folds)
        let nextFold = AtomicCounter()
        let group = DispatchGroup()
        for _ in 0..<max(1, min(options.threads, folds)) {
            group.enter()
            Thread {
                defer { group.leave() }
                while true {
                    let fold = nextFold.increment()
                    if fold >= folds { break }
                    let fitRows = train.indices.filter { foldOf[$0] != fold }
                    let scaler = Scaler(rows: fitRows.flatMap { train[$0].views }, dimension: dimension, enabled: standardize)
                    let data = Self.data(fitRows.map { train[$0] }, scaler: scaler, dimension: dimension)
                    var model = SoftmaxRegression(classes: classes, dimension: dimension)
                    var scores: [(Int, Double)] = []
                    for c in grid {
                        model.fit(data, c: c, penalty: penalty)  // warm start from the previous, stronger penalty
                        var right = 0, loss = 0.0
                        for i in train.indices where foldOf[i] == fold {
                            let p = model.probabilities(scaler.apply(train[i].views[0]))
                            if p.indices.max(by: { p[$0] < p[$1] }) == train[i].label { right += 1 }
                            loss -= Foundation.log(max(p[train[i].label], 1e-15))
                        }
                        scores.append((right, loss))
                    }
                    foldResults.set(fold, scores)
                }
            }.start()
        }
        group.wait()
        for scores in foldResults.values {
            for (g, (right, loss)) in scores.enumerated() { correct[g] += right; logLoss[g] += loss }
        }
        report.crossValidation = grid.indices.map {
            .init(c: grid[$0], accuracy: Double(correct[$0]) / Double(train.count), logLoss: logLoss[$0] / Double(train.count))
        }
        // Best accuracy; ties go to the lower log loss.
        let best = grid.indices.max { a, b in
            (correct[a], -logLoss[a]) < (correct[b], -logLoss[b])
        }!
        report.chosenC = grid[best]
        report.nonzeroWeights = 0
        // The head: fitted on the whole training part.
        var scaler = Scaler(rows: train.flatMap(\.views), dimension: dimension, enabled: standardize)
        let data = Self.data(train, scaler: scaler, dimension: dimension)
        var model = SoftmaxRegression(classes: classes, dimension: dimension)
        for c in grid[...best] { report.iterations += model.fit(data, c: c, penalty: penalty).iterations }
        report.nonzeroWeights = model.weights.filter { $0 != 0 }.count
        var trainRight = 0
        for photo in train where model.predict(scaler.apply(photo.views[0])) == photo.label { trainRight += 1 }
        report.trainingAccuracy = Double(trainRight) / Double(train.count)
        if !held.isEmpty {
            var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
            for photo in held {
                let predicted = model.predict(scaler.apply(photo.views[0]))
                confusion[photo.label][predicted] += 1
                if predicted != photo.label {
                    report.validationMistakes.append("\(photo.path): \(labels[photo.label]) taken for \(labels[predicted])")
                }
            }
            report.confusion = confusion
            report.validationAccuracy = Double(labels.indices.map { confusion[$0][$0] }.reduce(0, +)) / Double(held.count)
            report.perClassAccuracy = confusion.enumerated().map { k, row in
                let n = row.reduce(0, +)
                return n > 0 ? Double(row[k]) / Double(n) : nil
            }
        }
        if options.refitOnAllPhotos, !held.isEmpty {
            let everything = train + held
            let allScaler = Scaler(rows: everything.flatMap(\.views), dimension: dimension, enabled: standardize)
            let allData = Self.data(everything, scaler: allScaler, dimension: dimension)
            var refit = SoftmaxRegression(classes: classes, dimension: dimension)
            for c in grid[...best] { report.iterations += refit.fit(allData, c: c, penalty: penalty).iterations }
            model = refit
            scaler = allScaler
            report.refitOnAllPhotos = true
            report.nonzeroWeights = model.weights.filter { $0 != 0 }.count
        }
        report.fittingSeconds = Double(DispatchTime.now().uptimeNanoseconds - fitStart) / 1e9
        let weights = try Self.weightsFile(backbone: backboneWeights, model: model, scaler: scaler, basis: basis, labels: labels, report: report)
        return Result(weights: weights, report: report, model: model)
    }

    static func data(_ photos: [(label: Int, views: [[Float]], validation: Bool, path: String)], scaler: Scaler, dimension: Int) -> SoftmaxRegression.Data {
        var data = SoftmaxRegression.Data(dimension: dimension)
        data.features.reserveCapacity(photos.reduce(0) { $0 + $1.views.count } * dimension)
        for photo in photos {
            for view in photo.views { data.append(scaler.apply(view), label: photo.label) }
        }
        return data
    }

    /// The backbone's tensors with the new classifier (standardisation folded in:
    /// `W' = W / sd`, `b' = b - W' . mean`) and the metadata of Weights/README.md, "Trained classifiers".
    static func weightsFile(backbone: ShuffleNetWeights, model: SoftmaxRegression, scaler: Scaler, basis: Basis, labels: [String],
                            report: Report) throws(TrainingError) -> ShuffleNetWeights {
        let old = backbone.configuration
        let configuration: ShuffleNetConfiguration
        do {
            configuration = try ShuffleNetConfiguration(scale: old.scale, groups: old.groups, stemChannels: old.stemChannels,
                                                        stageChannels: old.stageChannels, numClasses: labels.count,
                                                        shuffle: old.shuffle, classifierHasBias: true)
        } catch {
            throw .invalidOption("cannot describe the trained network: \(error)")
        }
        // In the basis: scores = W2 (z - mean) / sd + b2 with z = B f + c; on the pooled features f:
        // W = (W2 / sd) B, b = b2 - (W2 / sd) . mean + (W2 / sd) . c.
        let d = model.dimension, p = basis.pooledDimension
        var w = [Float](repeating: 0, count: labels.count * p)
        var b = [Float](repeating: 0, count: labels.count)
        for k in 0..<labels.count {
            var bias = model.biases[k]
            var row = [Double](repeating: 0, count: p)
            for j in 0..<d {
                let folded = model.weights[k * d + j] / scaler.scale[j]
                bias += folded * (basis.offset(j) - scaler.mean[j])
                basis.accumulate(row: &row, component: j, times: folded)
            }
            for i in 0..<p { w[k * p + i] = Float(row[i]) }
            b[k] = Float(bias)
        }
        var tensors = backbone.tensors
        tensors["classifier.0.weight"] = w
        tensors["classifier.0.bias"] = b
        var metadata = backbone.metadata
        metadata[ShuffleNetWeights.MetadataKey.labels] = TrainedHeadMetadata.customLabels
        metadata[TrainedHeadMetadata.classNamesKey] = TrainedHeadMetadata.encode(classNames: labels)
        metadata[TrainedHeadMetadata.trainingKey] = report.metadataJSON
        do {
            return try ShuffleNetWeights(configuration: configuration, tensors: tensors, batchNormEpsilon: backbone.batchNormEpsilon,
                                         metadata: metadata, source: "trained head")
        } catch {
            throw .invalidOption("the trained network is not valid: \(error)")
        }
    }
}

/// The map from pooled features `f` to what the regression sees: `f` itself, or `B f + c` with the backbone
/// classifier's weights `B` and bias `c`, in Double.
struct Basis: Sendable {
    let pooledDimension: Int
    let dimension: Int
    let matrix: [Double]?
    let bias: [Double]

    init(backbone: ShuffleNetWeights, kind: HeadTrainer.FeatureBasis) {
        let c = backbone.configuration
        pooledDimension = c.stageChannels[2]
        switch kind {
        case .pooled:
            dimension = pooledDimension
            matrix = nil
            bias = [Double](repeating: 0, count: pooledDimension)
        case .backboneLogits:
            dimension = c.numClasses
            matrix = backbone.tensors["classifier.0.weight"]!.map(Double.init)
            bias = c.classifierHasBias ? backbone.tensors["classifier.0.bias"]!.map(Double.init) : [Double](repeating: 0, count: c.numClasses)
        }
    }

    func apply(_ features: [Float]) -> [Float] {
        guard let matrix else { return features }
        let p = pooledDimension
        return (0..<dimension).map { k in
            var s = bias[k]
            for i in 0..<p { s += matrix[k * p + i] * Double(features[i]) }
            return Float(s)
        }
    }

    func offset(_ j: Int) -> Double { matrix == nil ? 0 : bias[j] }

    /// `row += times * (row j of the map)`.
    func accumulate(row: inout [Double], component j: Int, times: Double) {
        guard let matrix else { row[j] += times; return }
        let p = pooledDimension
        for i in 0..<p { row[i] += times * matrix[j * p + i] }
    }
}

/// Per-feature standardisation fitted on training rows (identity when disabled; constant features keep scale 1).
struct Scaler: Sendable {
    let mean: [Double]
    let scale: [Double]

    init(rows: [[Float]], dimension: Int, enabled: Bool) {
        guard enabled, !rows.isEmpty else {
            mean = [Double](repeating: 0, count: dimension)
            scale = [Double](repeating: 1, count: dimension)
            return
        }
        var sum = [Double](repeating: 0, count: dimension)
        for row in rows { for j in 0..<dimension { sum[j] += Double(row[j]) } }
        let mean = sum.map { $0 / Double(rows.count) }
        var squares = [Double](repeating: 0, count: dimension)
        for row in rows { for j in 0..<dimension { let e = Double(row[j]) - mean[j]; squares[j] += e * e } }
        self.mean = mean
        scale = squares.map { let sd = ($0 / Double(rows.count)).squareRoot(); return sd > 1e-8 ? sd : 1 }
    }

    func apply(_ row: [Float]) -> [Double] {
        (0..<mean.count).map { (Double(row[$0]) - mean[$0]) / scale[$0] }
    }
}

extension HeadTrainer.Report {
    /// The run in short for the `head_training` metadata: no per-photo lists.
    package var metadataJSON: String {
        var short = self
        short.unreadable = []
        short.validationMistakes = []
        short.duplicates = []
        short.extractionSeconds = 0
        short.fittingSeconds = 0
        return short.json(pretty: false)
    }

    /// The report as JSON (snake-case keys), as `shufflenet train --format json` prints it.
    public func json(pretty: Bool = true) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Per-class accuracy and the confusion matrix, for people.
    public var text: String {
        var out = "classes: \(labels.joined(separator: ", "))\n"
        out += "training photos: \(trainingPhotos.reduce(0, +)) (\(zip(labels, trainingPhotos).map { "\($0) \($1)" }.joined(separator: ", "))), views per photo: \(viewsDescription)\n"
        out += "validation: \(validationSource), \(validationPhotos.reduce(0, +)) photos\n"
        out += "cross-validation (\(folds) folds, fitted on \(basis == .pooled ? "the pooled features" : "the backbone's class scores"), \(standardize ? "standardised" : "raw"), \(penalty == .l1 ? "L1" : "L2") penalty):\n"
        for cv in crossValidation {
            out += String(format: "  C %-8g accuracy %6.2f%%  log loss %.4f%@\n", cv.c, 100 * cv.accuracy, cv.logLoss, cv.c == chosenC ? "  <- chosen" : "")
        }
        out += "weights not zero: \(nonzeroWeights) of \(labels.count * (basis == .pooled ? featureDimension : crossValidationDimension))\n"
        out += String(format: "training accuracy (centre crops): %.2f%%\n", 100 * trainingAccuracy)
        if let validationAccuracy {
            out += String(format: "validation accuracy: %.2f%% (%d/%d)\n", 100 * validationAccuracy,
                          labels.indices.map { confusion[$0][$0] }.reduce(0, +), validationPhotos.reduce(0, +))
            let width = max(10, (labels.map(\.count).max() ?? 0) + 2)
            func pad(_ s: String) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
            out += "per class:\n"
            for (k, label) in labels.enumerated() {
                let accuracy = perClassAccuracy[k].map { String(format: "%.2f%%", 100 * $0) } ?? "n/a"
                out += "  \(pad(label))\(accuracy) of \(confusion[k].reduce(0, +))\n"
            }
            out += "confusion matrix (rows: true class, columns: predicted):\n"
            out += "  " + pad("") + labels.map(pad).joined() + "\n"
            for (k, label) in labels.enumerated() {
                out += "  " + pad(label) + confusion[k].map { pad(String($0)) }.joined() + "\n"
            }
            for mistake in validationMistakes { out += "  mistaken: \(mistake)\n" }
            if refitOnAllPhotos { out += "saved head: fitted again on all \(trainingPhotos.reduce(0, +) + validationPhotos.reduce(0, +)) photos with the chosen C (the figures above are for the head fitted without the validation photos)\n" }
        }
        return out
    }
}
